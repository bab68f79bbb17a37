import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { describeStorage } from '../../helpers/storage.js';
import { NOTES_MIGRATIONS, addNote, deleteNote, listNotes } from './notes.example.js';



describe('docs/storage.md', () => {
  it('shows exactly the example the tests run', async () => {
    await expectDocShowsExampleFile('docs/storage.md', 'tests/server/storage/notes.example.ts');
  });
});

describeStorage(
  'docs example: notes tables',
  (getStorage) => {
    it('adds and lists notes of a case', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'with notes' }));
      await addNote(storage, c.guid, 'jdoe', 'first');
      await addNote(storage, c.guid, 'asmith', 'second');
      const notes = await listNotes(storage, c.guid);
      expect(notes.map((n) => [n.author, n.text])).toEqual([
        ['jdoe', 'first'],
        ['asmith', 'second'],
      ]);
      expect(notes[0]!.created).toBeInstanceOf(Date);
    });

    it('refuses notes of unknown cases (foreign key)', async () => {
      await expect(addNote(getStorage(), randomUUID(), 'jdoe', 'orphan')).rejects.toMatchObject({ code: '23503' });
    });

    it('moves notes along when the case is attached, and drops them with the case', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'to attach' }));
      await addNote(storage, c.guid, 'jdoe', 'keep me');
      const next = randomUUID();
      await storage.attachCase(Case, c.guid, next);
      expect(await listNotes(storage, c.guid)).toEqual([]);
      expect((await listNotes(storage, next)).map((n) => n.text)).toEqual(['keep me']);
      await storage.deleteCase(next);
      expect(await listNotes(storage, next)).toEqual([]);
    });

    it('deletes a note once', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'delete note' }));
      const id = await addNote(storage, c.guid, 'jdoe', 'bye');
      expect(await deleteNote(storage, id)).toBe(true);
      expect(await deleteNote(storage, id)).toBe(false);
    });
  },
  { migrations: NOTES_MIGRATIONS },
);
