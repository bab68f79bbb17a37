/**
 * FusionDownloadAPI: one-time, short-lived download links. A service calls `prepare(filepath,
 * filename)` (or `prepareDirectory`, or `prepareCloud` for a cloud file) and hands the
 * PendingDownloadKey to a client, which GETs `/api/download/:guid/:token` without logging in.
 * Keys live in storage, so any instance serves any key; the first GET claims the key atomically.
 * Callers of the cloud API ask for a link themselves with `POST /api/cloud/link/<path>`.
 * See docs/downloads.md for the resume window.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Knex } from 'knex';
import type { CloudLink, Identity } from '../../concept/index.js';
import { PendingDownloadKey } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import { sendError } from '../error-handler.js';
import { pathFromUrl } from '../cloud/cloud-path.js';
import { buildRoute } from '../route.js';
import type { FusionHost } from '../host.js';
import { CLOUD_LINK_PREFIX, cloudApiOf, cloudTarget, openCloudForDownload } from './cloud-link.js';
import { DOWNLOAD_DEFAULTS } from './config.js';
import type { FusionDownloadConfig } from './config.js';
import { sanitizeFilename } from './content-disposition.js';
import { claimPending, countPending, extendWindow, insertPending, selectLive } from './pending-rows.js';
import type { DownloadKind, PendingDownloadRow } from './pending-rows.js';
import { hashSecret, newSecret, secretMatches, TOKEN_PATTERN } from './secret.js';
import { RESUME_TOKEN_HEADER, openForDownload, sendDirectory, sendFile, unsatisfiable } from './send.js';
import type { OpenedFile } from './send.js';

/** Options of FusionDownloadAPI; each one given here wins over the `download` config section. */
export type FusionDownloadAPIOptions = Partial<FusionDownloadConfig>;

/** The one answer for unknown, used, expired and mistyped keys: which of them is not revealed. */
const NOT_FOUND_MESSAGE = 'download not found: the link was used already, has expired, or never existed; prepare a new one';

export type { CloudLink };

/** Options of `prepareCloud`. */
export interface PrepareCloudOptions {
  /** The name the file is sent as; default: the last segment of its path. */
  filename?: string;
  /** The request that asked for the link: its client is traced with the decision. */
  request?: FastifyRequest;
}

/** Compared against when no row exists, so a miss costs what a wrong token costs. */
const NO_HASH = hashSecret('');

function checkOptions(options: FusionDownloadAPIOptions): void {
  const { maxPendingCount, timeout, resumeWindow } = options;
  if (maxPendingCount !== undefined && (!Number.isInteger(maxPendingCount) || maxPendingCount < 1)) {
    throw new TypeError(`FusionDownloadAPI: maxPendingCount must be an integer >= 1, got ${String(maxPendingCount)}`);
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    throw new TypeError(`FusionDownloadAPI: timeout must be a number of seconds > 0, got ${String(timeout)}`);
  }
  if (resumeWindow !== undefined && (typeof resumeWindow !== 'number' || !Number.isFinite(resumeWindow) || resumeWindow < 0)) {
    throw new TypeError(`FusionDownloadAPI: resumeWindow must be a number of seconds >= 0, got ${String(resumeWindow)}`);
  }
}

/** The route schema with what OpenAPI should show: the token param, and a binary body for 200/206. */
function documented(schema: RouteOptions['schema']): RouteOptions['schema'] {
  const base = (schema ?? {}) as Record<string, unknown>;
  const params = (base.params ?? { type: 'object', properties: {}, required: [] }) as { properties: Record<string, unknown>; required: string[] };
  const token = { type: 'string', description: 'the token of the PendingDownloadKey (base64url)' };
  const binary = (description: string) => ({ description, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } });
  return {
    ...base,
    params: { ...params, properties: { ...params.properties, token }, required: [...params.required, 'token'] },
    response: {
      ...(base.response as Record<string, unknown>),
      200: binary('The file, or a zip of the directory (Content-Disposition: attachment)'),
      206: binary('The requested byte range of the file (Content-Range)'),
    },
  };
}

/** Serves GET /api/download/:guid/:token for the keys `prepare` and `prepareDirectory` hand out. */
export class FusionDownloadAPI extends FusionAPI {
  /** The API name. */
  readonly name: string = 'download';
  readonly #options: FusionDownloadAPIOptions;
  #config: FusionDownloadConfig | null = null;
  #server: FusionHost | null = null;

  constructor(options: FusionDownloadAPIOptions = {}) {
    super();
    checkOptions(options);
    this.#options = { ...options };
  }

  /** The settings in force (the `download` section, then the constructor's options); defaults before setup. */
  get config(): FusionDownloadConfig {
    return this.#config ?? { ...DOWNLOAD_DEFAULTS, ...this.#options };
  }

  /** The path of the GET that serves `key`: `/api/download/<guid>/<token>`. */
  static pathOf(key: { guid: string; token: string }): string {
    return `/api/download/${key.guid}/${encodeURIComponent(key.token)}`;
  }

  /** Adds GET /api/download/:guid/:token (public; no HEAD route: a HEAD must not spend the key). */
  setup(app: FastifyInstance, server: FusionHost): void {
    // The `download` section was parsed and checked (unknown keys too) by loadConfig/parseConfig.
    this.#config = { ...DOWNLOAD_DEFAULTS, ...server.config.download, ...this.#options };
    this.#server = server;
    const route = buildRoute(
      server,
      {
        method: 'GET',
        url: '/api/download/:guid/:token',
        operation: 'download',
        params: ['guid'],
        public: true,
        errors: ['FUSION_ERR_DOWNLOAD_NOT_FOUND', 'FUSION_ERR_RANGE_NOT_SATISFIABLE', 'FUSION_ERR_FILE_IO'],
        summary: 'Fetch a prepared download (one-time link; Range requests within the resume window)',
      },
      (ctx) => this.#serve(ctx.request, ctx.reply, ctx.params),
    );
    app.route({ ...route, schema: documented(route.schema), exposeHeadRoute: false });
    for (const url of [CLOUD_LINK_PREFIX, `${CLOUD_LINK_PREFIX}/*`]) {
      server.route(
        app,
        { method: 'POST', url, operation: 'cloud_link', public: true, summary: 'Prepare a one-time download link to a cloud file (READ_FILE on it)' },
        async (ctx): Promise<CloudLink> => {
          const path = pathFromUrl(ctx.request.url, CLOUD_LINK_PREFIX).path;
          const identity = await cloudApiOf(server).requestIdentity(ctx.request, 'cloud_link', path);
          const key = await this.prepareCloud(identity, path, { request: ctx.request });
          ctx.reply.code(201);
          return { guid: key.guid, token: key.token, url: FusionDownloadAPI.pathOf(key) };
        },
      );
    }
  }

  /** Prepares a one-time key for the file at `filepath`, sent as `filename`; FUSION_ERR_DOWNLOAD_LIMIT when too many wait. */
  async prepare(filepath: string, filename: string): Promise<PendingDownloadKey> {
    return this.#prepare(filepath, filename, 'file');
  }

  /** Prepares a one-time key for a zip of `directory` (built while sent), sent as `filename` (say `evidence.zip`). */
  async prepareDirectory(directory: string, filename: string): Promise<PendingDownloadKey> {
    return this.#prepare(directory, filename, 'directory');
  }

  /**
   * Prepares a one-time key for the cloud file at `path` when `identity` (null: anonymous) holds
   * READ_FILE on it (the cloud API's effectivePermissions); 400 bad path, 401/403 refused, 404 no
   * file, 503 no cloud API. The key names the cloud path: any instance with the same driver serves it.
   */
  async prepareCloud(identity: Identity | null, path: string, options: PrepareCloudOptions = {}): Promise<PendingDownloadKey> {
    const knex = this.#knex();
    const target = cloudTarget(path);
    const entry = await cloudApiOf(this.#server!).readableFile(identity, target.path, options.request ?? null);
    return this.#insert(knex, entry.path, options.filename ?? target.filename, 'cloud');
  }

  /** Keys prepared and not yet fetched (unexpired), across every instance. */
  async pendingCount(): Promise<number> {
    return countPending(this.#knex(), new Date());
  }

  #knex(): Knex {
    if (this.#server === null) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the download API is not mounted: pass it in FusionServer({ apis }) and start the server');
    }
    return this.#server.storage.knex;
  }

  async #prepare(target: string, filename: string, kind: DownloadKind): Promise<PendingDownloadKey> {
    const knex = this.#knex();
    if (typeof target !== 'string' || target === '') throw new TypeError('FusionDownloadAPI: the path to download must be a non-empty string');
    if (typeof filename !== 'string') throw new TypeError('FusionDownloadAPI: filename must be a string');
    const path = resolve(target);
    const what = kind === 'file' ? 'a regular file' : 'a directory';
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new FusionError('FUSION_ERR_FILE_IO', `cannot prepare a download of ${path}: ${(error as { code?: string }).code ?? String(error)}`, { cause: error });
    }
    if (kind === 'file' ? !info.isFile() : !info.isDirectory()) {
      throw new FusionError('FUSION_ERR_FILE_IO', `cannot prepare a download of ${path}: it is not ${what}`);
    }
    return this.#insert(knex, path, filename, kind);
  }

  async #insert(knex: Knex, target: string, filename: string, kind: DownloadKind): Promise<PendingDownloadKey> {
    const config = this.config;
    const key = new PendingDownloadKey({});
    const now = new Date();
    await insertPending(
      knex,
      { guid: key.guid, tokenHash: hashSecret(key.token), filepath: target, filename: sanitizeFilename(filename), kind, expiresAt: new Date(now.getTime() + config.timeout * 1000) },
      { maxPending: config.maxPendingCount, now },
    );
    return key;
  }

  /** The file of a file or cloud row, opened for the answer. */
  async #open(row: PendingDownloadRow, request: FastifyRequest): Promise<OpenedFile> {
    return row.kind === 'cloud' ? openCloudForDownload(this.#server!, row.filepath, request) : openForDownload(row.filepath, request);
  }

  async #serve(request: FastifyRequest, reply: FastifyReply, params: Record<string, string>): Promise<FastifyReply> {
    const guid = params.guid!;
    const token = params.token ?? '';
    if (!TOKEN_PATTERN.test(token)) {
      throw new FusionError('FUSION_ERR_BAD_REQUEST', 'token: expected the base64url token of a PendingDownloadKey (letters, digits, - and _)');
    }
    const knex = this.#knex();
    const row = await selectLive(knex, guid, new Date());
    const tokenOk = secretMatches(token, row?.tokenHash ?? NO_HASH);
    if (row === null || !tokenOk) throw new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', NOT_FOUND_MESSAGE);
    if (row.resumeHash !== null) return this.#resume(request, reply, row);
    if (row.kind === 'directory') {
      const claimed = await claimPending(knex, guid, row.tokenHash, { now: new Date(), resumeHash: null, windowEnd: new Date() });
      if (claimed === null) throw new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', NOT_FOUND_MESSAGE);
      return sendDirectory(reply, claimed.filepath, claimed.filename);
    }
    return this.#first(request, reply, row);
  }

  /** The first GET of a file key: checks the range, claims the key, opens the resume window. */
  async #first(request: FastifyRequest, reply: FastifyReply, row: PendingDownloadRow): Promise<FastifyReply> {
    const file = await this.#open(row, request);
    try {
      // A bad range does not spend the key: the client may ask again.
      if (file.range.kind === 'unsatisfiable') return this.#refuseRange(request, reply, file);
      const window = this.config.resumeWindow;
      const resumeToken = window > 0 ? newSecret() : null;
      const resumeHash = resumeToken === null ? null : hashSecret(resumeToken);
      const now = new Date();
      const claimed = await claimPending(this.#knex(), row.guid, row.tokenHash, { now, resumeHash, windowEnd: new Date(now.getTime() + window * 1000) });
      if (claimed === null) throw new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', NOT_FOUND_MESSAGE);
      if (resumeHash !== null) this.#keepWindowOpen(request, reply, row.guid, resumeHash);
      return sendFile(reply, file, claimed.filename, resumeToken === null ? {} : { [RESUME_TOKEN_HEADER]: resumeToken });
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** A later GET within the resume window: only with the resume token the first GET received. */
  async #resume(request: FastifyRequest, reply: FastifyReply, row: PendingDownloadRow): Promise<FastifyReply> {
    const presented = request.headers[RESUME_TOKEN_HEADER];
    if (typeof presented !== 'string' || !secretMatches(presented, row.resumeHash) || row.kind === 'directory') {
      throw new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', NOT_FOUND_MESSAGE);
    }
    const file = await this.#open(row, request);
    try {
      if (file.range.kind === 'unsatisfiable') return this.#refuseRange(request, reply, file);
      const windowEnd = new Date(Date.now() + this.config.resumeWindow * 1000);
      if (!(await extendWindow(this.#knex(), row.guid, row.resumeHash!, windowEnd))) {
        throw new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', NOT_FOUND_MESSAGE);
      }
      this.#keepWindowOpen(request, reply, row.guid, row.resumeHash!);
      return sendFile(reply, file, row.filename);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async #refuseRange(request: FastifyRequest, reply: FastifyReply, file: OpenedFile): Promise<FastifyReply> {
    await file.close();
    return sendError(unsatisfiable(reply, file.size), request, reply);
  }

  /**
   * While the response streams, and once more when it ends (finished or cut), moves the end of
   * the resume window to `resume_window` seconds ahead: a long transfer cut late can still resume.
   */
  #keepWindowOpen(request: FastifyRequest, reply: FastifyReply, guid: string, resumeHash: string): void {
    const windowMs = this.config.resumeWindow * 1000;
    const extend = (): void => {
      let knex: Knex;
      try {
        knex = this.#knex();
      } catch {
        return; // storage closed: the server is stopping
      }
      extendWindow(knex, guid, resumeHash, new Date(Date.now() + windowMs)).catch((error: unknown) =>
        request.log.debug({ err: error, guid }, 'download: could not extend the resume window'),
      );
    };
    const timer = setInterval(extend, Math.max(1000, windowMs / 2));
    timer.unref();
    reply.raw.once('close', () => {
      clearInterval(timer);
      extend();
    });
  }
}
