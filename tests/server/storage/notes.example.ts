/** The service-tables example of docs/storage.md (docs-example.test.ts keeps both identical and runs it). */
import type { FusionStorage, StorageMigration } from '../../../src/server/storage/index.js';
import { affectedRows } from '../../../src/server/storage/index.js';

/** The notes service's migrations: one table of notes, tied to the framework's cases. */
export const NOTES_MIGRATIONS: StorageMigration[] = [
  {
    name: 'notes/0001_note',
    async up(knex) {
      await knex.schema.createTable('notes_note', (t) => {
        t.increments('id');
        // ON UPDATE CASCADE: attaching a case re-keys its guid, the notes follow.
        t.uuid('case_guid').notNullable().references('guid').inTable('fusion_case').onUpdate('CASCADE').onDelete('CASCADE');
        t.text('author').notNullable();
        t.text('text').notNullable();
        t.timestamp('created', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['case_guid', 'id']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable('notes_note');
    },
  },
];

/** One note of a case. */
export interface Note {
  id: number;
  author: string;
  text: string;
  created: Date;
}

/** Adds a note to case `caseGuid`; returns its id. */
export async function addNote(storage: FusionStorage, caseGuid: string, author: string, text: string): Promise<number> {
  const [row] = await storage.knex('notes_note').insert({ case_guid: caseGuid, author, text }).returning<{ id: number }[]>('id');
  return row!.id;
}

/** The notes of case `caseGuid`, oldest first. */
export async function listNotes(storage: FusionStorage, caseGuid: string): Promise<Note[]> {
  return storage.knex('notes_note').where({ case_guid: caseGuid }).orderBy('id').select('id', 'author', 'text', 'created');
}

/** Deletes a note; false when there was none. */
export async function deleteNote(storage: FusionStorage, id: number): Promise<boolean> {
  // affectedRows: knex-pglite returns a result object where pg returns the count.
  return affectedRows(await storage.knex('notes_note').where({ id }).delete()) > 0;
}
