/**
 * GET /api/cloud/zip/<dir>: a zip of what the caller may read below `dir`, built while sent.
 * Needs READ_TREE_DIRECTORY on `dir`; a sub-directory is entered only with READ_TREE_DIRECTORY on
 * it, a file is added only with READ_FILE on it. Files are read from the driver one at a time.
 */
import { once } from 'node:events';
import { PassThrough, pipeline } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ZipArchive } from 'archiver';
import type { FusionHost } from '../host.js';
import { contentDisposition } from '../download/content-disposition.js';
import type { CloudAccess } from './access.js';
import { selectAssignmentsInTree } from './assignment-rows.js';
import { baseName, pathFromUrl, selfAndAncestors } from './cloud-path.js';
import type { CloudDriver } from './driver.js';
import { selectDescendants } from './entry-rows.js';
import type { CloudEntry } from '../../concept/index.js';
import type { CloudFiles } from './files.js';
import { CLOUD_ERRORS } from './routes.js';

/** What the zip route needs. */
export interface ZipRouteDeps {
  access: CloudAccess;
  files: CloudFiles;
  driver: CloudDriver;
}

/** The entries of the tree below `dir` the caller may see, given a resolver of its permissions. */
export function readableEntries(dir: string, entries: readonly CloudEntry[], allowed: (path: string, permission: 'READ_FILE' | 'READ_TREE_DIRECTORY') => boolean): CloudEntry[] {
  const listable = new Map<string, boolean>([[dir, true]]);
  const out: CloudEntry[] = [];
  for (const entry of entries) {
    // Entries come sorted by path, so a parent directory is decided before its children.
    const parent = entry.path.slice(0, Math.max(0, entry.path.lastIndexOf('/')));
    if (listable.get(parent) !== true) {
      if (entry.type === 'directory') listable.set(entry.path, false);
      continue;
    }
    if (entry.type === 'directory') {
      const ok = allowed(entry.path, 'READ_TREE_DIRECTORY');
      listable.set(entry.path, ok);
      if (ok) out.push(entry);
    } else if (allowed(entry.path, 'READ_FILE')) {
      out.push(entry);
    }
  }
  return out;
}

/** Adds GET /api/cloud/zip and /api/cloud/zip/* to `app`. */
export function addZipRoute(app: FastifyInstance, host: FusionHost, deps: ZipRouteDeps): void {
  for (const url of ['/api/cloud/zip', '/api/cloud/zip/*']) {
    host.route(app, { method: 'GET', url, public: true, operation: 'cloud_zip', produces: 'application/zip', errors: CLOUD_ERRORS, summary: 'A zip of what the caller may read in a directory' }, async (ctx) => {
      const { request, reply } = ctx;
      const dir = pathFromUrl(request.url, '/api/cloud/zip');
      const who = await deps.access.requestCaller(request, 'cloud_zip', dir.path);
      await deps.files.list(request, who, dir); // READ_TREE_DIRECTORY and existence
      const knex = host.storage.knex;
      const all = await selectDescendants(knex, dir.path);
      const caller = who.caller;
      const assignments = caller.kind === 'user' ? await selectAssignmentsInTree(knex, selfAndAncestors(dir.path), dir.path, caller.username, caller.groups) : [];
      const resolve = deps.access.resolverOver(caller, assignments);
      const entries = readableEntries(dir.path, all, (path, permission) => resolve(path).permissions.includes(permission));
      const strip = dir.path === '' ? 0 : dir.path.length + 1;
      const archive = new ZipArchive({ zlib: { level: 6 } });
      archive.on('warning', (error: Error) => archive.destroy(error));
      const output = new PassThrough();
      pipeline(archive, output, () => undefined);
      void (async () => {
        try {
          for (const entry of entries) {
            const name = entry.path.slice(strip);
            if (entry.type === 'directory') {
              archive.append(Buffer.alloc(0), { name: `${name}/`, type: 'directory' });
              continue;
            }
            const added = once(archive, 'entry');
            archive.append(await deps.driver.read(entry.path), { name });
            await added;
          }
          await archive.finalize();
        } catch (error) {
          request.log.warn({ err: error, path: dir.path }, 'cloud: the zip stopped early');
          archive.destroy(error as Error);
          output.destroy(error as Error);
        }
      })();
      reply.header('content-type', 'application/zip');
      reply.header('content-disposition', contentDisposition(`${baseName(dir.path) || 'cloud'}.zip`));
      reply.header('cache-control', 'no-store');
      return reply.code(200).send(output);
    });
  }
}
