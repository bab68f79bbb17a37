/**
 * Walks through the fleet started by fleet.ts, printing each step (tests/examples/fleet.test.ts
 * runs the same walk):
 *
 *   npx tsx examples/fleet/try.ts [--central URL] [--tracker URL] [--scanner URL]
 *
 * An analyst opens a case on the central service and syncs it to the tracker; the scanner hears
 * of it by webhook, follows it over SSE and writes a risk score; the analyst raises the severity
 * on the tracker, the scanner rescores; a case opened on the tracker directly is attached to a
 * central case. The central service sees every result.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { FusionCaseAPIClient } from '../../src/client/api/case.js';
import { FusionClient } from '../../src/client/client.js';
import { isFusionClientError } from '../../src/client/errors.js';
import { CentralClient } from './central/client.js';
import { IncidentCase } from './incident.js';
import type { FollowedCase } from './scanner/scanner-api.js';

/** Where the fleet listens. */
export interface FleetUrls {
  central: string;
  tracker: string;
  scanner: string;
}

/** What the walk found, for a reader (printed) and a test (returned). */
export interface WalkResult {
  services: string[];
  /** The case synced from the central service to the tracker, then scored twice. */
  synced: { guid: string; managed: boolean; firstScore: number | null; secondScore: number | null };
  /** What the analyst may not do on the tracker: the error codes. */
  refused: { writeScore: string; badSeverity: string };
  /** The case opened on the tracker, then attached to a central case. */
  attached: { trackerGuid: string; centralGuid: string; managed: boolean; score: number | null; listedBefore: boolean };
  /** The scanner's own view of the first case. */
  followed: FollowedCase | undefined;
  /** The first case as the scanner keeps it (synced there by the central service). */
  scannerCopyManaged: boolean;
}

const USER = 'analyst';
const PASSWORD = 'analyst-demo-password';

async function loggedIn(baseUrl: string): Promise<FusionClient> {
  const client = new FusionClient({ baseUrl });
  await new FusionAuthAPIClient({ client }).login(USER, PASSWORD);
  return client;
}

/** Retries `probe` until `done` holds (the fleet works asynchronously), for at most `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function codeOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
    return 'accepted';
  } catch (error) {
    if (isFusionClientError(error)) return error.code;
    throw error;
  }
}

/** Runs the walk against a running fleet; `say` receives one line per step. */
export async function walk(urls: FleetUrls, say: (line: string) => void = () => undefined): Promise<WalkResult> {
  const clients = await Promise.all([loggedIn(urls.central), loggedIn(urls.tracker), loggedIn(urls.scanner)]);
  const [centralHttp, trackerHttp, scannerHttp] = clients;
  try {
    const central = new CentralClient({ client: centralHttp });
    const centralCases = new FusionCaseAPIClient({ client: centralHttp });
    const trackerCases = new FusionCaseAPIClient({ client: trackerHttp, caseClass: IncidentCase });

    const services = (await central.enumerateServices()).map((service) => service.name);
    say(`central manages: ${services.join(', ')}`);

    const opened = await centralCases.createCase({ name: 'Phishing wave on the finance team', acs: ['soc'] });
    say(`central: case ${opened.guid} opened`);
    const synced = await central.syncServiceCase('tracker', opened.guid, IncidentCase);
    say(`central -> tracker: synced (managed there: ${synced.managed}, severity ${synced.severity})`);
    const scored = await eventually('the first score', () => central.probeServiceCase('tracker', opened.guid, IncidentCase), (c) => c.risk_score !== null);
    say(`scanner (webhook create_case, then SSE) -> tracker: risk_score ${scored.risk_score}; central sees it`);

    const writeScore = await codeOf(trackerCases.updateCase(opened.guid, { risk_score: 1 }));
    const badSeverity = await codeOf(trackerCases.updateCase(opened.guid, { severity: 'apocalyptic' } as never));
    say(`tracker refuses the analyst's own score (${writeScore}) and an unknown severity (${badSeverity})`);
    await trackerCases.updateCase(opened.guid, { severity: 'high', assets: ['mail-gw-1', 'ws-0042'] });
    say('analyst on the tracker: severity high, two assets');
    const rescored = await eventually(
      'the second score',
      () => central.probeServiceCase('tracker', opened.guid, IncidentCase),
      (c) => c.risk_score !== scored.risk_score,
    );
    say(`scanner (SSE update_case) -> tracker: risk_score ${rescored.risk_score}; central sees it`);

    const scannerCopy = await central.syncServiceCase('scanner', opened.guid);
    say(`central -> scanner: synced (managed there: ${scannerCopy.managed})`);

    const direct = await trackerCases.createCase({ name: 'Suspicious VPN login', severity: 'critical', reporter: 'night shift', acs: ['soc'] });
    say(`analyst on the tracker: case ${direct.guid} opened directly (not managed)`);
    const candidates = await central.enumerateServiceCases('tracker', IncidentCase);
    const listedBefore = candidates.some((c) => c.guid === direct.guid);
    const managing = await centralCases.createCase({ name: 'VPN compromise', acs: ['soc'] });
    const attached = await central.attachServiceCase('tracker', direct.guid, managing.guid, IncidentCase);
    say(`central: tracker case ${direct.guid} attached to central case ${managing.guid} (managed: ${attached.managed})`);
    const attachedScored = await eventually('the attached case scored', () => central.probeServiceCase('tracker', managing.guid, IncidentCase), (c) => c.risk_score !== null);
    say(`scanner -> tracker: risk_score ${attachedScored.risk_score} on the attached case; central sees it`);

    const followed = (await scannerHttp.get<FollowedCase[]>('/api/scanner/followed')).find((f) => f.case_guid === opened.guid);
    say(`scanner received case ${opened.guid}: by webhook [${followed?.webhook.join(', ')}], over SSE [${followed?.sse.join(', ')}]`);
    return {
      services,
      synced: { guid: opened.guid, managed: synced.managed, firstScore: scored.risk_score, secondScore: rescored.risk_score },
      refused: { writeScore, badSeverity },
      attached: { trackerGuid: direct.guid, centralGuid: managing.guid, managed: attachedScored.managed, score: attachedScored.risk_score, listedBefore },
      followed,
      scannerCopyManaged: scannerCopy.managed,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      central: { type: 'string', default: 'http://127.0.0.1:8100' },
      tracker: { type: 'string', default: 'http://127.0.0.1:8101' },
      scanner: { type: 'string', default: 'http://127.0.0.1:8102' },
    },
  });
  walk(values, (line) => process.stdout.write(`${line}\n`)).then(
    () => process.stdout.write('done\n'),
    (error: unknown) => {
      process.stderr.write(`try: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
