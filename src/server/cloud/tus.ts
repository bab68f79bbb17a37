/**
 * Tus 1.0 resumable uploads at `/api/cloud/uploads/` (@tus/server; its store by driver:
 * tus-store.ts). Our code
 * runs before tus sees a request: the caller is resolved, a creation (POST) is checked as a
 * `PUT file` would be (metadata `path`, `overwrite`; Upload-Length against the limits), and any
 * other request must come from the caller who created the upload. Those refusals are answered in
 * our envelope. When the last byte arrives, the upload is checked again and committed as a cloud
 * file (hashed, renamed into place, its row written) in tus' `onUploadFinish`; tus' own errors
 * (offset conflicts, bad lengths) are rewritten into the envelope by `onResponseError`.
 * Local driver: partial uploads live in `cloud.upload_dir` (default `<root>/.fusion-uploads`) on
 * the instance that received them. S3 driver: in the bucket, so any instance resumes them. The
 * tus lock is a storage advisory lock (tus-locker.ts), shared by every instance.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/server';
import { FusionError } from '../../helper/errors.js';
import { mapError } from '../error-handler.js';
import type { FusionHost } from '../host.js';
import type { CloudAccess, RequestCaller } from './access.js';
import { parsePlainPath } from './cloud-path.js';
import type { FusionCloudConfig } from './config.js';
import type { CloudDriver } from './driver.js';
import type { CloudFiles } from './files.js';
import { isPlainPatch, servePatch } from './tus-patch.js';
import type { TusAnswer, TusPatchOptions } from './tus-patch.js';
import { tusBackendOf } from './tus-store.js';
import type { TusBackend } from './tus-store.js';
import { CLOUD_ERRORS } from './routes.js';
import { openApiTransform } from '../route-openapi.js';

/** What the tus mount needs. */
export interface TusDeps {
  access: CloudAccess;
  files: CloudFiles;
  driver: CloudDriver;
  config: FusionCloudConfig;
}

const PREFIX = '/api/cloud/uploads';

interface Call {
  request: FastifyRequest;
  who: RequestCaller;
}

function ownerOf(who: RequestCaller): string {
  return who.caller.kind === 'anonymous' ? 'anonymous:' : `${who.caller.kind}:${who.caller.username}`;
}

/** Base64 as tus 1.0 sends metadata values (padded, standard alphabet; @tus/server's own test). */
const BASE64 = /^[\d+/A-Za-z]*={0,2}$/;

/** The Upload-Metadata pairs, decoded; FUSION_ERR_CLOUD_UPLOAD naming a value that is not base64. */
function decodeMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [key, value] = pair.trim().split(' ');
    if (!key) continue;
    if (value !== undefined && (value.length % 4 !== 0 || !BASE64.test(value))) {
      throw new FusionError('FUSION_ERR_CLOUD_UPLOAD', `Upload-Metadata: the value of ${JSON.stringify(key.slice(0, 40))} is not base64: send each value base64-encoded ("path L2QvZmlsZQ==" for /d/file), as tus 1.0 requires`);
    }
    out[key] = Buffer.from(value ?? '', 'base64').toString('utf8');
  }
  return out;
}

function envelopeBody(error: unknown): TusAnswer {
  const mapped = mapError(error);
  return { status_code: mapped.status, body: JSON.stringify({ status: mapped.status, message: mapped.message, code: mapped.code }) };
}

/** The answer to a failure of the tus endpoint: ours in the envelope, tus' own (plain text) rewritten into it. */
function tusErrorAnswer(error: unknown): TusAnswer {
  if (typeof error !== 'object' || error === null || !('status_code' in error)) return envelopeBody(error);
  const { status_code, body } = error as { status_code: number; body?: string };
  if (body?.startsWith('{')) return { status_code, body };
  const message = body?.trim() || `upload refused (${status_code})`;
  return { status_code, body: JSON.stringify({ status: status_code, message, code: status_code === 413 ? 'FUSION_ERR_CLOUD_TOO_LARGE' : status_code === 404 ? 'FUSION_ERR_CLOUD_NOT_FOUND' : 'FUSION_ERR_CLOUD_UPLOAD' }) };
}

/** Milliseconds a PATCH asked to give up its lock may go on writing (tus' default). */
const LOCK_DRAIN_MS = 3000;

/** Mounts the tus server under /api/cloud/uploads/ in `app`; returns its backend (the partial uploads, for their expiry). */
export async function mountTus(app: FastifyInstance, host: FusionHost, deps: TusDeps): Promise<TusBackend> {
  const backend = tusBackendOf(deps.driver, deps.config);
  // Tus hooks get a web Request; on Node it carries the IncomingMessage we saw (srvx's runtime.node).
  const calls = new WeakMap<IncomingMessage, Call>();
  const callOf = (req: Request): Call => {
    const raw = (req as Request & { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
    const call = raw === undefined ? undefined : calls.get(raw);
    if (!call) throw new FusionError('FUSION_ERR_INTERNAL', 'tus hook without its request');
    return call;
  };
  const { AdvisoryTusLocker } = await import('./tus-locker.js');
  const locker = new AdvisoryTusLocker(() => host.storage);
  /** Commits a finished upload; its answer (the entry in the envelope) is the last PATCH's. */
  const onFinish = async ({ request, who }: Call, upload: Upload): Promise<TusAnswer & { headers: Record<string, string> }> => {
    try {
      const entry = await finish(deps, backend, request, who, upload);
      return { status_code: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 200, data: entry, count: Object.keys(entry).length }) };
    } catch (error) {
      throw envelopeBody(error);
    } finally {
      await backend.cleanup(upload.id);
    }
  };
  const tus: TusServer = new TusServer({
    path: PREFIX,
    relativeLocation: true,
    datastore: backend.datastore,
    ...backend.naming,
    locker: locker.withoutDrain(),
    lockDrainTimeout: LOCK_DRAIN_MS,
    maxSize: deps.config.maxFileBytes ?? undefined,
    async onUploadCreate(req, upload) {
      const { who } = callOf(req);
      return { metadata: { ...upload.metadata, fusion_owner: ownerOf(who) } };
    },
    onUploadFinish: (req, upload) => onFinish(callOf(req), upload),
    onResponseError: (_req, error) => tusErrorAnswer(error),
  });
  const patchOptions = (call: Call): TusPatchOptions => ({
    datastore: backend.datastore,
    locker,
    maxSize: deps.config.maxFileBytes ?? 0,
    lockDrainTimeout: LOCK_DRAIN_MS,
    expiration: deps.config.uploadExpiry * 1000,
    onFinish: (upload) => onFinish(call, upload),
    errorAnswer: tusErrorAnswer,
  });

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const who = await deps.access.requestCaller(request, 'cloud_upload', '');
      if (request.method !== 'OPTIONS' && request.headers['tus-resumable'] !== TUS_VERSION) {
        // tus answers this one itself in plain text: in the envelope instead, with tus' status.
        const message = `Tus-Resumable: ${TUS_VERSION} is required (the only version served)`;
        return reply.code(412).header('tus-resumable', TUS_VERSION).header('tus-version', TUS_VERSION).send({ status: 412, message, code: 'FUSION_ERR_CLOUD_UPLOAD' });
      }
      const id = await authorizeTus(deps, backend, tus, request, who);
      reply.hijack();
      if (id !== null && isPlainPatch(request.raw)) {
        await servePatch(patchOptions({ request, who }), request.raw, reply.raw, id);
        return reply;
      }
      calls.set(request.raw, { request, who });
      await tus.handle(request.raw, reply.raw);
      return reply;
    };
    for (const url of [PREFIX, `${PREFIX}/`, `${PREFIX}/*`]) {
      scope.route({ method: TUS_METHODS, url, handler, exposeHeadRoute: false, schema: TUS_SCHEMA, config: { swaggerTransform: TUS_DOC } });
    }
  });
  return backend;
}

/** The tus protocol version served. */
const TUS_VERSION = '1.0.0';
const TUS_METHODS: HTTPMethods[] = ['POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'];
const TUS_SCHEMA = { summary: 'Resumable uploads (tus 1.0.0: creation, termination); see docs/cloud.md', tags: ['cloud'] };
const TUS_DOC = openApiTransform({
  method: TUS_METHODS,
  public: true,
  rawBody: true,
  errors: [...CLOUD_ERRORS, 'FUSION_ERR_CLOUD_EXISTS', 'FUSION_ERR_CLOUD_TOO_LARGE', 'FUSION_ERR_CLOUD_QUOTA', 'FUSION_ERR_CLOUD_UPLOAD'],
});

/**
 * Our checks before tus runs; throws FusionErrors the error handler answers in the envelope.
 * Returns the store's id of the upload the request names (null for OPTIONS and creations).
 */
async function authorizeTus(deps: TusDeps, backend: TusBackend, tus: TusServer, request: FastifyRequest, who: RequestCaller): Promise<string | null> {
  if (request.method === 'OPTIONS') return null;
  const rest = request.url.split('?')[0]!.slice(PREFIX.length).replace(/^\/+|\/+$/g, '');
  if (request.method === 'POST') {
    if (rest !== '') throw new FusionError('FUSION_ERR_METHOD_NOT_ALLOWED', 'create uploads with POST /api/cloud/uploads/');
    const lengthHeader = request.headers['upload-length'];
    if (typeof lengthHeader !== 'string' || !/^\d+$/.test(lengthHeader)) {
      throw new FusionError('FUSION_ERR_CLOUD_UPLOAD', 'Upload-Length: required, a number of bytes (deferred lengths are not supported)');
    }
    const metadata = decodeMetadata(request.headers['upload-metadata'] as string | undefined);
    if (metadata.path === undefined) throw new FusionError('FUSION_ERR_CLOUD_UPLOAD', 'Upload-Metadata: "path" (the cloud path of the file) is required');
    if (metadata.overwrite !== undefined && metadata.overwrite !== 'true' && metadata.overwrite !== 'false') {
      throw new FusionError('FUSION_ERR_CLOUD_UPLOAD', `Upload-Metadata: "overwrite" must be true or false, not ${JSON.stringify(metadata.overwrite.slice(0, 40))}`);
    }
    const path = parsePlainPath(metadata.path);
    await deps.files.checkWrite(request, who, path, { overwrite: metadata.overwrite === 'true', length: Number(lengthHeader) });
    return null;
  }
  if (!/^[0-9a-f]{32}$/.test(rest)) throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', 'no such upload: create one with POST /api/cloud/uploads/');
  const id = backend.idOf(rest);
  let upload: Upload;
  try {
    upload = await tus.datastore.getUpload(id);
  } catch {
    throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', 'no such upload (finished, cancelled or never created): create one with POST /api/cloud/uploads/');
  }
  if (upload.metadata?.fusion_owner !== ownerOf(who)) {
    throw new FusionError(who.caller.kind === 'anonymous' ? 'FUSION_ERR_UNAUTHORIZED' : 'FUSION_ERR_FORBIDDEN', 'this upload belongs to another caller');
  }
  return id;
}

/** Commits a finished upload as the file of its `path` metadata (checks again: things may have changed). */
async function finish(deps: TusDeps, backend: TusBackend, request: FastifyRequest, who: RequestCaller, upload: Upload) {
  const metadata = upload.metadata ?? {};
  const path = parsePlainPath(metadata.path ?? '');
  const overwrite = metadata.overwrite === 'true';
  const size = upload.size ?? upload.offset;
  await deps.files.checkWrite(request, who, path, { overwrite, length: size });
  const { staged, sha256 } = await backend.stageFinished(upload.id, path.path, size);
  const { entry } = await deps.files.commit(who, path, staged, { size, sha256 }, { overwrite });
  return entry;
}
