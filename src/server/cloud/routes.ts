/**
 * The routes of DESIGN.md section 11 (tus and zip have their own files). Every route is public
 * at the auth layer: the caller (user, API key or anonymous) is resolved here and every decision
 * is made by the cloud's roles. Paths come from the raw URL (cloud-path.ts).
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FusionError } from '../../helper/errors.js';
import { keyedListAnswer, PAGE_QUERY } from '../list-paging.js';
import type { FusionHost, RouteSpec } from '../host.js';
import { ifRangeAllows, parseRange } from '../download/range.js';
import type { CloudAccess, RequestCaller } from './access.js';
import { pathFromUrl } from './cloud-path.js';
import type { CloudPath } from './cloud-path.js';
import type { CloudFiles } from './files.js';
import type { CloudRoles } from './roles.js';

/** What the routes need. */
export interface CloudRouteDeps {
  access: CloudAccess;
  files: CloudFiles;
  roles: CloudRoles;
}

type Handler = (request: FastifyRequest, reply: FastifyReply, who: RequestCaller, path: CloudPath) => Promise<unknown>;

const flag = { type: 'string', enum: ['true', 'false', '1', '0'] };
const principalBody = {
  type: 'object',
  properties: { user: { type: 'string', minLength: 1 }, group: { type: 'string', minLength: 1 }, role: { type: 'string', minLength: 1 } },
  additionalProperties: false,
};

/** What every cloud route may answer: the caller is resolved and the path checked in the handler. */
export const CLOUD_ERRORS = ['FUSION_ERR_UNAUTHORIZED', 'FUSION_ERR_FORBIDDEN', 'FUSION_ERR_CLOUD_PATH', 'FUSION_ERR_CLOUD_NOT_FOUND', 'FUSION_ERR_CLOUD_DRIVER'] as const;

function yes(value: unknown): boolean {
  return value === 'true' || value === '1';
}

/** Adds `spec` twice: at `<prefix>` (the root) and `<prefix>/*`. */
function addPathRoute(app: FastifyInstance, host: FusionHost, deps: CloudRouteDeps, prefix: string, spec: Omit<RouteSpec<true>, 'url' | 'public'>, handler: Handler): void {
  for (const url of [prefix, `${prefix}/*`]) {
    host.route(app, { ...spec, url, public: true, errors: [...CLOUD_ERRORS, ...(spec.errors ?? [])] }, async (ctx) => {
      const path = pathFromUrl(ctx.request.url, prefix);
      const who = await deps.access.requestCaller(ctx.request, spec.operation, path.path);
      return handler(ctx.request, ctx.reply, who, path);
    });
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function contentLength(request: FastifyRequest): number | undefined {
  const raw = firstHeader(request.headers['content-length']);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new FusionError('FUSION_ERR_BAD_REQUEST', 'Content-Length: expected a number of bytes');
  return Number(raw);
}

/** Adds the tree, directory, file, permissions and roles routes to `app` (the cloud API's scope). */
export function addCloudRoutes(app: FastifyInstance, host: FusionHost, deps: CloudRouteDeps): void {
  const { files, access, roles } = deps;
  addPathRoute(app, host, deps, '/api/cloud/tree', { method: 'GET', operation: 'cloud_tree', query: PAGE_QUERY, summary: 'List a cloud directory (pages with ?limit=&cursor=, by path)' }, (request, reply, who, path) =>
    keyedListAnswer(request.query, reply, (page) => files.list(request, who, path, page ?? undefined), (entry) => entry.path),
  );
  addPathRoute(app, host, deps, '/api/cloud/directory', { method: 'POST', operation: 'cloud_create_directory', errors: ['FUSION_ERR_CLOUD_EXISTS'], summary: 'Create a cloud directory' }, async (request, reply, who, path) => {
    const entry = await files.createDirectory(request, who, path);
    reply.code(201);
    return entry;
  });
  addPathRoute(
    app,
    host,
    deps,
    '/api/cloud/directory',
    { method: 'DELETE', operation: 'cloud_delete_directory', errors: ['FUSION_ERR_CLOUD_NOT_EMPTY'], query: { type: 'object', properties: { recursive: flag } }, summary: 'Delete a cloud directory' },
    async (request, _reply, who, path) => {
      await files.deleteDirectory(request, who, path, yes((request.query as { recursive?: string }).recursive));
    },
  );
  addPathRoute(app, host, deps, '/api/cloud/file', { method: 'GET', operation: 'cloud_read_file', produces: 'application/octet-stream', errors: ['FUSION_ERR_RANGE_NOT_SATISFIABLE'], summary: 'Download a cloud file (Range supported)' }, async (request, reply, who, path) => {
    await files.readable(request, who, path);
    // Sizes and bytes from one opened version: a file replaced since its row was read goes out whole, as it is now.
    const { content, etag } = await files.openVersion(path.path);
    try {
      const size = content.size;
      const ifRange = firstHeader(request.headers['if-range']);
      const allows = etag === null ? ifRange === undefined : ifRangeAllows(ifRange, etag);
      const range = allows ? parseRange(firstHeader(request.headers.range), size) : ({ kind: 'full' } as const);
      reply.header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes').header('x-content-type-options', 'nosniff');
      if (etag !== null) reply.header('etag', etag);
      if (range.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new FusionError('FUSION_ERR_RANGE_NOT_SATISFIABLE', `the requested range is outside the file (${size} bytes)`);
      }
      if (size === 0) {
        await content.close();
        return reply.code(200).header('content-length', '0').send(Buffer.alloc(0));
      }
      if (range.kind === 'partial') {
        const body = await content.read({ start: range.start, end: range.end });
        return reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', String(range.end - range.start + 1)).send(body);
      }
      const body = await content.read();
      return reply.code(200).header('content-length', String(size)).send(body);
    } catch (error) {
      await content.close();
      throw error;
    }
  });
  addPathRoute(app, host, deps, '/api/cloud/file', { method: 'DELETE', operation: 'cloud_delete_file', summary: 'Delete a cloud file' }, async (request, _reply, who, path) => {
    await files.deleteFile(request, who, path);
  });
  addPathRoute(app, host, deps, '/api/cloud/permissions', { method: 'GET', operation: 'cloud_permissions', summary: "The caller's role and permissions on a path" }, (_request, _reply, who, path) =>
    access.effective(who.caller, path.path),
  );
  addPathRoute(app, host, deps, '/api/cloud/roles', { method: 'GET', operation: 'cloud_roles', summary: 'Role assignments on a path' }, async (request, _reply, who, path) => {
    await access.require(request, who, 'ASSIGN_ROLES', path.path);
    return roles.list(path.path);
  });
  addPathRoute(app, host, deps, '/api/cloud/roles', { method: 'PUT', operation: 'cloud_assign_role', errors: ['FUSION_ERR_CLOUD_ROLE'], body: { ...principalBody, required: ['role'] }, summary: 'Assign a role on a path' }, async (request, _reply, who, path) => {
    await access.require(request, who, 'ASSIGN_ROLES', path.path);
    const body = request.body as { user?: string; group?: string; role: string };
    await roles.assign(path.path, roles.principalOf(body), body.role);
  });
  addPathRoute(app, host, deps, '/api/cloud/roles', { method: 'DELETE', operation: 'cloud_remove_role', body: principalBody, summary: 'Remove an assignment: inheritance comes back' }, async (request, _reply, who, path) => {
    await access.require(request, who, 'ASSIGN_ROLES', path.path);
    await roles.remove(path.path, roles.principalOf((request.body ?? {}) as { user?: string; group?: string }));
  });
  // Raw bodies: in a scope of their own, so the JSON parser of the roles routes stays.
  void app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    addPathRoute(
      raw,
      host,
      deps,
      '/api/cloud/file',
      {
        method: 'PUT',
        operation: 'cloud_write_file',
        rawBody: true,
        errors: ['FUSION_ERR_BAD_REQUEST', 'FUSION_ERR_CLOUD_EXISTS', 'FUSION_ERR_CLOUD_TOO_LARGE', 'FUSION_ERR_CLOUD_QUOTA', 'FUSION_ERR_LOCK_TIMEOUT'],
        query: { type: 'object', properties: { overwrite: flag } }, summary: 'Upload a cloud file (raw body, streamed)' },
      async (request, reply, who, path) => {
        const body = (request.body ?? request.raw) as Readable;
        try {
          const { entry, created } = await files.writeFile(request, who, path, body, {
            overwrite: yes((request.query as { overwrite?: string }).overwrite),
            length: contentLength(request),
          });
          reply.code(created ? 201 : 200);
          return entry;
        } catch (error) {
          // Refused before the end of the body: close the connection after the answer, so the
          // client stops sending instead of waiting on a socket nobody reads.
          if (!request.raw.complete) reply.header('connection', 'close');
          throw error;
        }
      },
    );
  });
}
