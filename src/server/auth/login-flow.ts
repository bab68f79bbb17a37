/**
 * POST /api/auth/login, step by step: check the shape of `data`, count the attempt against
 * the rate limits, ask the backend, then store the identity and a new session and set the
 * cookie. Wrong password and unknown user give the same answer.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../concept/index.js';
import { FusionError, isFusionError } from '../../helper/errors.js';
import type { FusionHost } from '../host.js';
import type { FusionAuthBackend } from './backend/backend.js';
import type { FusionAuthRateLimitConfig } from './config.js';
import { readCookie } from './cookie.js';
import { BACKOFF_TABLE, LoginBackoff } from './login-backoff.js';
import { ATTEMPTS_TABLE, LoginRateLimiter, clientAddressKey } from './rate-limit.js';
import type { RateLimitKey } from './rate-limit.js';
import type { SessionManager } from './session-manager.js';
import { traceDecision } from './trace.js';

/** What LoginFlow works with. */
export interface LoginFlowOptions {
  server: FusionHost;
  backend: FusionAuthBackend;
  sessions: SessionManager;
  rateLimit: FusionAuthRateLimitConfig;
}

/** Runs logins for FusionAuthAPI. */
export class LoginFlow {
  readonly #options: LoginFlowOptions;
  #limiter: LoginRateLimiter | null = null;
  #backoff: LoginBackoff | null = null;

  constructor(options: LoginFlowOptions) {
    this.#options = options;
  }

  /** Creates the rate-limit table when missing (once across instances, under an advisory lock). */
  async start(): Promise<void> {
    const { storage } = this.#options.server;
    const { window, backoffAfter, backoffBase, backoffMax } = this.#options.rateLimit;
    const limiter = new LoginRateLimiter(storage.knex, window);
    const backoff = new LoginBackoff(storage.knex, { free: backoffAfter, base: backoffBase, max: backoffMax, forget: window + backoffMax });
    if (!(await storage.knex.schema.hasTable(ATTEMPTS_TABLE)) || !(await storage.knex.schema.hasTable(BACKOFF_TABLE))) {
      await storage.withAdvisoryLock('fusion-auth-migrate', async () => {
        await limiter.migrate();
        await backoff.migrate();
      });
    }
    this.#limiter = limiter;
    this.#backoff = backoff;
  }

  /** Deletes stale rate-limit counters. */
  async prune(): Promise<number> {
    if (this.#limiter === null || this.#backoff === null) return 0;
    return (await this.#limiter.prune()) + (await this.#backoff.prune());
  }

  /** Logs in with the body's `data`; sets the session cookie on `reply` and returns the Identity. */
  async run(data: unknown, request: FastifyRequest, reply: FastifyReply): Promise<Identity> {
    const { backend, sessions, server, rateLimit } = this.#options;
    const limiter = this.#limiter;
    const backoff = this.#backoff;
    if (limiter === null || backoff === null) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the auth API is not started yet');
    let subject: string | null;
    try {
      subject = backend.loginSubject(data);
    } catch (error) {
      traceDecision(request, null, 'login', {}, false, 'malformed login data');
      throw error;
    }
    const keys: RateLimitKey[] = [{ key: clientAddressKey(request.ip), max: rateLimit.maxPerClient }];
    let pair: string | null = null;
    if (subject !== null) {
      // Per (username, address): a wrong-password burst from one place cannot lock the owner out
      // elsewhere; the global per-username ceiling is high enough that one attacker alone cannot.
      const user = sha256(subject);
      pair = `user:${user}@${clientAddressKey(request.ip)}`;
      keys.push({ key: pair, max: rateLimit.maxPerUsername });
      keys.push({ key: `user:${user}`, max: rateLimit.maxPerUsernameGlobal });
      const wait = await backoff.waitSeconds(pair);
      if (wait > 0) throw limited(request, reply, subject, wait, 'login backoff');
    }
    const outcome = await limiter.reserve(keys);
    if (!outcome.allowed) throw limited(request, reply, subject, outcome.retryAfter, 'rate limited');
    const session = sessions.draft();
    let identity: Identity | null;
    try {
      identity = await backend.login(data, request, session);
    } catch (error) {
      // A backend may refuse with its own message (FUSION_ERR_LOGIN_FAILED): counted like a wrong password.
      const refused = isFusionError(error) && error.code === 'FUSION_ERR_LOGIN_FAILED';
      if (!refused) await limiter.refund(outcome.reservation);
      else if (pair !== null) await backoff.fail(pair);
      traceDecision(request, null, 'login', { username: subject }, false, refused ? error.message : 'backend error');
      throw error;
    }
    if (identity === null) {
      if (pair !== null) await backoff.fail(pair);
      traceDecision(request, null, 'login', { username: subject }, false, 'wrong credentials');
      throw new FusionError('FUSION_ERR_LOGIN_FAILED', 'login failed: unknown user or wrong password');
    }
    await limiter.refund(outcome.reservation);
    if (pair !== null) await backoff.clear(pair);
    await server.storage.storeIdentity(identity);
    // A new login never keeps the session the client held before (no session fixation, no orphan).
    const previous = readCookie(request.headers.cookie, sessions.cookieName);
    if (previous !== null) await sessions.delete(previous);
    const token = await sessions.create(identity, session);
    reply.header('set-cookie', sessions.setCookie(token));
    traceDecision(request, identity, 'login', {}, true);
    return identity;
  }
}

/** The 429 of a throttled login, with `Retry-After`. */
function limited(request: FastifyRequest, reply: FastifyReply, subject: string | null, wait: number, why: string): FusionError {
  traceDecision(request, null, 'login', { username: subject }, false, why);
  reply.header('retry-after', String(wait));
  return new FusionError('FUSION_ERR_RATE_LIMITED', `too many login attempts: retry in ${wait} s`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}
