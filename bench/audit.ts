/**
 * The audit line of one authorization decision (traceUserOp, as the auth API writes it for
 * every request) to a log file: through the server's logger, one synchronous write per line
 * (the baseline: how audit lines were written before), against createAuditLog's buffered
 * destination (what `fusion serve` uses). Reports CPU time per line (process.cpuUsage, user +
 * system: a loaded machine disturbs it less than wall time), rounds alternating.
 * Run: `npm run bench -- audit [lines per round, default 50000] [rounds, default 5]`.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog } from '../src/helper/audit-log.js';
import { createLogger, flushLogs } from '../src/helper/logging.js';
import { setAuditSink, traceUserOp } from '../src/helper/tracing.js';
import { formatLoad, median, sampleLoad } from './lib/stats.js';

const identity = { username: 'bench-client', groups: ['analysts', 'service'] };

/** One decision as FusionAuthAPI traces it (auth/trace.ts): the route's params, client and request id. */
function decide(i: number): void {
  traceUserOp(identity, 'retrieve_case', {
    granted: true,
    context: { case_guid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', is_delete_op: false, client: '127.0.0.1', request_id: `1a2b3c4d-${i.toString(36)}` },
  });
}

/** CPU microseconds per line for `lines` decisions. */
function round(lines: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < lines; i++) decide(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / lines;
}

/** Runs the comparison and prints it. */
export default async function main(args: string[]): Promise<void> {
  const lines = Number(args[0] ?? 50_000);
  const rounds = Number(args[1] ?? 5);
  const dir = await mkdtemp(join(tmpdir(), 'fusion-bench-audit-'));
  const syncFile = join(dir, 'sync.log');
  const bufferedFile = join(dir, 'buffered.log');
  const syncLogger = createLogger({ file: syncFile, level: 'info' }).child({ module: 'audit' });
  const buffered = createAuditLog({ file: bufferedFile, level: 'info' });
  const load = sampleLoad();
  const results = { sync: [] as number[], buffered: [] as number[] };
  try {
    for (let r = 0; r < rounds + 1; r++) {
      setAuditSink(syncLogger);
      const sync = round(lines);
      setAuditSink(buffered.logger);
      const fast = round(lines);
      if (r === 0) continue; // warm-up
      results.sync.push(sync);
      results.buffered.push(fast);
      console.log(`round ${r}: one write per line ${sync.toFixed(2)} µs/line, buffered ${fast.toFixed(2)} µs/line`);
    }
  } finally {
    setAuditSink(undefined);
    buffered.close();
    await flushLogs(syncLogger);
  }
  const loadSeen = load.stop();
  const [syncBytes, bufferedBytes] = await Promise.all([stat(syncFile), stat(bufferedFile)]).then((s) => s.map((x) => x.size));
  await rm(dir, { recursive: true, force: true });
  const s = median(results.sync);
  const b = median(results.buffered);
  console.log(`\naudit line, CPU per decision (median of ${rounds} rounds of ${lines} lines):`);
  console.log(`  server logger, one write per line: ${s.toFixed(2)} µs   (${syncBytes} bytes written)`);
  console.log(`  createAuditLog, buffered:          ${b.toFixed(2)} µs   (${bufferedBytes} bytes written)`);
  console.log(`  saved ${(s - b).toFixed(2)} µs per decision; buffered/one-write = ${(b / s).toFixed(2)}`);
  console.log(`  ${formatLoad(loadSeen, availableParallelism())}`);
}
