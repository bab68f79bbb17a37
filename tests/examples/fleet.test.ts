/**
 * examples/fleet through its own script: fleet.ts starts tracker, scanner and central service
 * (three `fusion serve` processes) on a fresh PostgreSQL database; try.ts's walk drives them with
 * the typed clients; SIGINT stops the script, which stops the three services.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { request } from 'undici';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { FusionCaseAPIClient } from '../../src/client/api/case.js';
import { FusionClient } from '../../src/client/client.js';
import { CentralClient } from '../../examples/fleet/central/client.js';
import { ServiceConnector } from '../../examples/fleet/central/connector.js';
import { IncidentCase } from '../../examples/fleet/incident.js';
import { walk } from '../../examples/fleet/try.js';
import type { FleetUrls } from '../../examples/fleet/try.js';
import { TEST_PG_URL, isCi, pgUnavailableReason } from '../helpers/storage.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`fleet example test skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

/** Resolves with the URLs once the script prints `ready: {...}`; rejects when it exits first. */
function startFleet(storageUrl: string, output: { text: string }): { child: ChildProcess; ready: Promise<FleetUrls> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/fleet/fleet.ts', '--port', '0', '--storage-url', storageUrl], {
    cwd: ROOT,
    env: { ...process.env, FUSION_DEBUG: '', FUSION_LOGFILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<FleetUrls>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output.text += chunk.toString();
      const match = /\[fleet\]\s+ready: (\{.*\})/.exec(output.text);
      if (match) resolve(JSON.parse(match[1]!) as FleetUrls);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`fleet.ts exited with ${code} before ready: ${output.text.slice(-3000)}`)));
  });
  return { child, ready };
}

async function refusesConnections(url: string): Promise<boolean> {
  try {
    const response = await request(`${url}/api/info`);
    await response.body.dump();
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

describePg('examples/fleet', () => {
  const database = `fusion_fleet_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  const output = { text: '' };
  let fleet: ChildProcess | undefined;
  let urls: FleetUrls;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${database}`;
    const started = startFleet(url.toString(), output);
    fleet = started.child;
    urls = await started.ready;
  }, 180_000);

  afterAll(async () => {
    if (fleet && fleet.exitCode === null && fleet.signalCode === null) {
      const exited = new Promise((resolve) => fleet!.once('exit', resolve));
      fleet.kill('SIGINT');
      await exited;
    }
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }, 60_000);

  it('starts the three services, each in its own schema of the one database', async () => {
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${database}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const { rows } = await db.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'fleet\\_%' ORDER BY nspname`);
      expect(rows.map((row) => row.nspname)).toEqual(['fleet_central', 'fleet_scanner', 'fleet_tracker']);
    } finally {
      await db.end();
    }
    expect(output.text).toMatch(/\[tracker\]\s+Server listening at/);
    expect(output.text).toMatch(/\[scanner\]\s+Server listening at/);
    expect(output.text).toMatch(/\[central\]\s+Server listening at/);
  });

  it('runs the walk: central case synced to the tracker, scored by the scanner (webhook + SSE), rescored, attached; central sees it all', async () => {
    const lines: string[] = [];
    const result = await walk(urls, (line) => lines.push(line));
    expect(result.services).toEqual(['tracker', 'scanner']);
    // Synced from the central service: managed on the tracker; medium, no asset: 30; high, two assets: 70.
    expect(result.synced).toMatchObject({ managed: true, firstScore: 30, secondScore: 70 });
    expect(result.refused).toEqual({ writeScore: 'FUSION_ERR_FORBIDDEN', badSeverity: 'FUSION_ERR_CONCEPT_INVALID' });
    // Opened by the analyst on the tracker (critical: 80), listed as unmanaged, then attached: re-keyed and managed.
    expect(result.attached).toMatchObject({ listedBefore: true, managed: true, score: 80 });
    expect(result.scannerCopyManaged).toBe(true);
    // The scanner heard of the case by signed webhook and followed it over SSE, where the rescore came from.
    expect(result.followed?.webhook[0]).toBe('create_case');
    expect(result.followed?.sse[0]).toBe('subscribers');
    expect(result.followed?.sse.filter((category) => category === 'update_case').length).toBeGreaterThanOrEqual(2);
    expect(result.followed?.risk_score).toBe(70);
    expect(lines.length).toBeGreaterThan(8);
    expect(output.text).toMatch(/\[scanner\]\s+risk score written to the tracker\s+case=\S+ risk_score=70/);
  }, 180_000);

  it('refuses webhooks not signed with the tracker secret, names an unknown service, and blames a refused key on the central service', async () => {
    const unsigned = await request(`${urls.scanner}/api/hooks/tracker`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
      body: JSON.stringify({ source: 'tracker', category: 'create_case', case: { name: 'forged' }, ext: null }),
    });
    expect(unsigned.statusCode).toBe(401);
    expect(await unsigned.body.json()).toMatchObject({ status: 401, code: 'FUSION_ERR_WEBHOOK_SIGNATURE' });

    const login = await request(`${urls.central}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { username: 'analyst', password: 'analyst-demo-password' } }),
    });
    const cookie = [login.headers['set-cookie']].flat()[0]!.split(';')[0]!;
    await login.body.dump();
    const unknown = await request(`${urls.central}/api/service/nowhere/cases`, { headers: { cookie } });
    expect(unknown.statusCode).toBe(404);
    expect(await unknown.body.json()).toMatchObject({ status: 404, code: 'FUSION_ERR_NOT_FOUND', message: expect.stringContaining('nowhere') });

    // The central service's connector: a key the tracker refuses is the central's fault (502), other 4xx pass through.
    const wrongKey = new ServiceConnector({ name: 'tracker', url: urls.tracker, apiKey: 'not-the-key-the-tracker-knows' });
    const rightKey = new ServiceConnector({ name: 'tracker', url: urls.tracker, apiKey: 'fleet-demo-central-to-tracker-key' });
    try {
      await expect(wrongKey.enumerateCases()).rejects.toMatchObject({ status: 502, code: 'FUSION_ERR_CONNECTION', message: expect.stringContaining('api_key') });
      await expect(rightKey.updateCase('not-a-guid', {})).rejects.toMatchObject({ status: 400, code: 'FUSION_ERR_BAD_GUID' });
    } finally {
      await Promise.all([wrongKey.close(), rightKey.close()]);
    }
  }, 60_000);

  it("refuses to attach a service's case the caller may not access, and leaves it as it was", async () => {
    const clients = [new FusionClient({ baseUrl: urls.central }), new FusionClient({ baseUrl: urls.tracker })];
    try {
      for (const client of clients) await new FusionAuthAPIClient({ client }).login('analyst', 'analyst-demo-password');
      const [centralHttp, trackerHttp] = clients as [FusionClient, FusionClient];
      const central = new CentralClient({ client: centralHttp });
      const hidden = await new FusionCaseAPIClient({ client: trackerHttp, caseClass: IncidentCase }).createCase({ name: 'Board laptops', acs: ['executives'] });
      const managing = await new FusionCaseAPIClient({ client: centralHttp }).createCase({ name: 'Board laptops (central)', acs: ['soc'] });
      expect((await central.enumerateServiceCases('tracker')).map((c) => c.guid)).not.toContain(hidden.guid);
      await expect(central.attachServiceCase('tracker', hidden.guid, managing.guid)).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
      // Not re-keyed: the tracker has no case under the central guid.
      await expect(central.probeServiceCase('tracker', managing.guid)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }, 60_000);

  it('stops the whole fleet on SIGINT (Ctrl-C): exit 0, no service left listening', async () => {
    const exited = new Promise<number | null>((resolve) => fleet!.once('exit', (code) => resolve(code)));
    fleet!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output.text).toMatch(/\[fleet\]\s+stopped/);
    for (const url of Object.values(urls)) expect(await refusesConnections(url)).toBe(true);
  }, 60_000);
});

/** One `fusion serve` of a fleet service; resolves with its URL once it listens. */
function serveOne(name: 'tracker' | 'scanner', storageUrl: string, env: Record<string, string>, output: { text: string }): { child: ChildProcess; url: Promise<string> } {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', `examples/fleet/${name}/config.yaml`, '--port', '0', '--storage-url', storageUrl];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, FUSION_DEBUG: '', FUSION_LOGFILE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output.text += chunk.toString();
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output.text);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output.text.slice(-3000)}`)));
  });
  return { child, url };
}

describePg('examples/fleet: a scanner that starts after the case was opened', () => {
  const database = `fusion_fleet_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  const children: ChildProcess[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null)));
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }, 60_000);

  it('follows and scores the open cases it finds at start, with no webhook (the tracker cannot reach it)', async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const storageUrl = Object.assign(new URL(TEST_PG_URL), { pathname: `/${database}` }).toString();
    // Port 9 (discard) on loopback: every delivery fails, so only the scanner's start can find the case.
    const tracker = serveOne('tracker', storageUrl, { FLEET_SCANNER_HOOK: 'http://127.0.0.1:9/api/hooks/tracker' }, { text: '' });
    children.push(tracker.child);
    const trackerUrl = await tracker.url;
    const analyst = new FusionClient({ baseUrl: trackerUrl });
    closers.push(() => analyst.close());
    await new FusionAuthAPIClient({ client: analyst }).login('analyst', 'analyst-demo-password');
    const cases = new FusionCaseAPIClient({ client: analyst, caseClass: IncidentCase });
    const waiting = await cases.createCase({ name: 'Ransom note on a file server', severity: 'high', assets: ['fs-01'], acs: ['soc'] });

    const scannerOutput = { text: '' };
    const scanner = serveOne('scanner', storageUrl, { FLEET_TRACKER_URL: trackerUrl }, scannerOutput);
    children.push(scanner.child);
    await scanner.url;
    const deadline = Date.now() + 60_000;
    while ((await cases.retrieveCase(waiting.guid)).risk_score === null) {
      if (Date.now() > deadline) throw new Error(`the scanner never scored the case: ${scannerOutput.text.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await cases.retrieveCase(waiting.guid)).risk_score).toBe(65);
    expect(scannerOutput.text).not.toMatch(/webhook received/);
  }, 180_000);
});

describe('examples/fleet/README.md', () => {
  it('gives the two commands the test runs', async () => {
    const readme = await readFile(new URL('../../examples/fleet/README.md', import.meta.url), 'utf8');
    expect(readme).toContain('npx tsx examples/fleet/fleet.ts');
    expect(readme).toContain('npx tsx examples/fleet/try.ts');
  });
});
