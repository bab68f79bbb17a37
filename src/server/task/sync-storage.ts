/**
 * SyncStorage: the on-disk layout edf_fusion's synchronizer keeps for each case,
 * `<directory>/[<tsid>] <name>/` with the sections `01 - Information` … `05 - Reports`, and
 * `syncCase`, which creates or renames a case's folder and writes its `case.json`. A hidden
 * `.fusion-case` file holding the guid finds the folder again after a rename.
 * The section names are edf_fusion's own (`edf_fusion/server/storage.py`, class SyncStorage).
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Case } from '../../concept/index.js';

/** The five sections of a case folder (default names). */
export const SYNC_SECTIONS = ['01 - Information', '02 - Collectors', '03 - Collections', '04 - Samples', '05 - Reports'] as const;

const MARKER = '.fusion-case';

/** What syncCase did to a case's folder. */
export type SyncOutcome = 'created' | 'renamed' | 'updated' | 'unchanged';

/** The case folders under one directory. */
export class SyncStorage {
  /** The directory holding one folder per case. */
  readonly directory: string;
  /** Section folder names, in order. */
  readonly sections: readonly string[];

  constructor(directory: string, options: { sections?: readonly string[] } = {}) {
    this.directory = directory;
    this.sections = options.sections ?? SYNC_SECTIONS;
  }

  /** The folder name of a case: `[tsid] name` (or `name` without tsid), made safe for file systems. */
  folderName(caseObj: Case): string {
    const name = `${caseObj.tsid ? `[${caseObj.tsid}] ` : ''}${caseObj.name}`;
    // eslint-disable-next-line no-control-regex
    const safe = name.replace(/[/\\\u0000-\u001f<>:"|?*]/g, '_').trim().replace(/^\.+/, '_');
    return safe.slice(0, 200) || caseObj.guid;
  }

  /** The folder of case `guid` now on disk, found by its marker, or null. */
  async find(guid: string): Promise<string | null> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return null;
    }
    for (const name of names) {
      const marker = await readFile(join(this.directory, name, MARKER), 'utf8').catch(() => null);
      if (marker?.trim() === guid) return name;
    }
    return null;
  }
}

/**
 * Brings the folder of `caseObj` up to date under `storage.directory`: created with its
 * sections, renamed when the case's tsid or name changed, `01 - Information/case.json`
 * rewritten when the case changed.
 */
export async function syncCase(storage: SyncStorage, caseObj: Case): Promise<SyncOutcome> {
  await mkdir(storage.directory, { recursive: true });
  const wanted = storage.folderName(caseObj);
  const existing = await storage.find(caseObj.guid);
  let outcome: SyncOutcome = 'unchanged';
  if (existing === null) {
    outcome = 'created';
  } else if (existing !== wanted) {
    await rename(join(storage.directory, existing), join(storage.directory, wanted));
    outcome = 'renamed';
  }
  const folder = join(storage.directory, wanted);
  for (const section of storage.sections) await mkdir(join(folder, section), { recursive: true });
  await writeFile(join(folder, MARKER), `${caseObj.guid}\n`);
  const info = join(folder, storage.sections[0] ?? '', 'case.json');
  const document = `${JSON.stringify(caseObj.toJSON(), null, 2)}\n`;
  if ((await readFile(info, 'utf8').catch(() => null)) !== document) {
    await writeFile(info, document);
    if (outcome === 'unchanged') outcome = 'updated';
  }
  return outcome;
}
