/**
 * The scanner's API: learns of new tracker cases by signed webhook, follows each one live by SSE,
 * scores it (riskScore) and writes the verdict back onto the tracker's case with its API key.
 * GET /api/scanner/followed tells what it received by each channel.
 */
import type { FastifyInstance } from 'fastify';
import { FusionCaseAPIClient } from '../../../src/client/api/case.js';
import { FusionEventAPIClient } from '../../../src/client/api/event.js';
import { FusionClient } from '../../../src/client/client.js';
import { isFusionClientError } from '../../../src/client/errors.js';
import { createWebhookReceiver } from '../../../src/client/webhook-receiver.js';
import type { FusionLogger } from '../../../src/helper/logging.js';
import { FusionAPI } from '../../../src/server/index.js';
import type { FusionHost } from '../../../src/server/index.js';
import { IncidentCase, IncidentEvent, riskScore } from '../incident.js';

/** The `scanner` config section. */
export interface ScannerSettings {
  /** Base URL of the tracker. */
  trackerUrl: string;
  /** The key the tracker knows the scanner by (its `auth.clients`). */
  trackerApiKey: string;
  /** The tracker's `event.secret`: webhooks not signed with it are refused. */
  webhookSecret: string;
}

/** What the scanner saw of one case, and its verdict. */
export interface FollowedCase {
  case_guid: string;
  /** Event categories received by webhook, in order. */
  webhook: string[];
  /** Event categories received over SSE, in order. */
  sse: string[];
  /** The last score written (or found already written), null before the first. */
  risk_score: number | null;
}

/** Cases a webhook makes the scanner follow. */
const NEW_CASE = new Set(['create_case', 'attach_case']);
const PRESENCE = new Set(['subscribers', 'subscribe', 'unsubscribe']);

/** Scores the tracker's cases it hears of, by webhook (new cases) and SSE (their changes). */
export class ScannerAPI extends FusionAPI {
  readonly name = 'scanner';
  readonly #settings: ScannerSettings;
  readonly #client: FusionClient;
  readonly #cases: FusionCaseAPIClient<IncidentCase>;
  readonly #events: FusionEventAPIClient<IncidentEvent>;
  readonly #followed = new Map<string, FollowedCase>();
  readonly #following = new Set<string>();
  readonly #loops = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #logger: FusionLogger | undefined;

  constructor(settings: ScannerSettings) {
    super();
    this.#settings = settings;
    this.#client = new FusionClient({ baseUrl: settings.trackerUrl, apiKey: settings.trackerApiKey });
    this.#cases = new FusionCaseAPIClient({ client: this.#client, caseClass: IncidentCase });
    this.#events = new FusionEventAPIClient({ client: this.#client, eventClass: IncidentEvent });
  }

  async setup(app: FastifyInstance, server: FusionHost): Promise<void> {
    this.#logger = server.logger.child({ api: 'scanner' });
    const receiver = createWebhookReceiver({ secret: this.#settings.webhookSecret, eventClass: IncidentEvent });
    // Public as far as sessions go: the signature is the webhook's credential.
    await app.register(receiver.plugin, { prefix: '/api/hooks', path: '/tracker', handler: (event) => this.#onWebhook(event) });
    server.route(app, { method: 'GET', url: '/api/scanner/followed', operation: 'enumerate_followed' }, () => [...this.#followed.values()]);
  }

  /** Follows the tracker's open cases again after a restart (the tracker may still be starting: then webhooks bring them). */
  override async start(): Promise<void> {
    this.#track(
      (async () => {
        try {
          for (const incident of await this.#cases.enumerate()) if (incident.closed === null) await this.#follow(incident);
        } catch (error) {
          this.#logger?.warn({ err: error }, 'cannot list the tracker cases yet: following new ones as webhooks announce them');
        }
      })(),
    );
  }

  override async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    await this.#client.close();
  }

  async #onWebhook(event: IncidentEvent): Promise<void> {
    const guid = event.case.guid;
    this.#record(guid).webhook.push(event.category);
    this.#logger?.info({ case: guid, category: event.category }, 'webhook received');
    // A throw answers 500: the tracker retries the delivery later.
    if (NEW_CASE.has(event.category)) await this.#follow(event.case);
  }

  /** Opens the SSE stream of a case (once), waits until it is live, then scores the case. */
  async #follow(incident: IncidentCase): Promise<void> {
    // A 500 while stopping: the tracker keeps the delivery and retries it once the scanner is back.
    if (this.#stop.signal.aborted) throw new Error('the scanner is stopping');
    if (this.#following.has(incident.guid)) return this.#score(incident);
    this.#following.add(incident.guid);
    let live!: () => void;
    const opened = new Promise<void>((resolve) => (live = resolve));
    this.#track(this.#listen(incident.guid, this.#record(incident.guid), live));
    await opened;
  }

  async #listen(guid: string, record: FollowedCase, live: () => void): Promise<void> {
    try {
      for await (const event of this.#events.subscribe(guid, { signal: this.#stop.signal })) {
        record.sse.push(event.category);
        if (event.category === 'subscribers') live();
        else if (PRESENCE.has(event.category)) continue;
        else this.#logger?.info({ case: guid, category: event.category }, 'SSE event received');
        if (event.category === 'delete_case') break;
        // A failed write is logged and the case still followed: its next change scores it again.
        await this.#score(event.case).catch((error: unknown) => this.#logFailure(error, guid, 'cannot write the risk score'));
      }
    } catch (error) {
      this.#logFailure(error, guid, 'stopped following the case');
    } finally {
      this.#following.delete(guid);
      live();
    }
  }

  /** Writes the score when it differs from the case's: the scanner's own update comes back as an event, and stops here. */
  async #score(incident: IncidentCase): Promise<void> {
    const score = riskScore(incident);
    this.#record(incident.guid).risk_score = score;
    if (incident.risk_score === score || incident.closed !== null) return;
    await this.#cases.updateCase(incident.guid, { risk_score: score, triaged_by: 'scanner' });
    this.#logger?.info({ case: incident.guid, risk_score: score }, 'risk score written to the tracker');
  }

  /** A 404 is no fault: the case was deleted, or attached under a new guid (whose attach_case webhook follows). */
  #logFailure(error: unknown, guid: string, what: string): void {
    if (isFusionClientError(error) && error.status === 404) this.#logger?.info({ case: guid }, `${what}: the case is gone (deleted, or attached under a new guid)`);
    else this.#logger?.warn({ err: error, case: guid }, what);
  }

  #record(guid: string): FollowedCase {
    let record = this.#followed.get(guid);
    if (record === undefined) this.#followed.set(guid, (record = { case_guid: guid, webhook: [], sse: [], risk_score: null }));
    return record;
  }

  #track(loop: Promise<void>): void {
    this.#loops.add(loop);
    void loop.finally(() => this.#loops.delete(loop));
  }
}
