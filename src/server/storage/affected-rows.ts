/**
 * Row count of a knex `delete()`. knex-pglite 0.14 reports the command of a delete as `DEL`
 * (knex's method name), which knex's postgres dialect does not recognize: instead of the
 * count it returns the raw result `{ rowCount, affectedRows, ... }`. pg returns the number.
 */
export function affectedRows(result: unknown): number {
  if (typeof result === 'number') return result;
  const counted = result as { rowCount?: unknown; affectedRows?: unknown } | null;
  if (typeof counted?.rowCount === 'number') return counted.rowCount;
  if (typeof counted?.affectedRows === 'number') return counted.affectedRows;
  throw new TypeError(`cannot read a row count from ${JSON.stringify(result)}`);
}
