/**
 * Starts the example fleet: tracker, scanner and central service, three `fusion serve` processes
 * on one PostgreSQL database (a schema each), prints what they do, and stops them on Ctrl-C.
 *
 *   npx tsx examples/fleet/fleet.ts [--storage-url URL] [--port BASE]
 *
 * BASE (default 8100) is the central service's port, the tracker and scanner take the next two;
 * `--port 0` picks free ports. Each service reads the others' addresses from FLEET_* variables.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['tracker', 'scanner', 'central'] as const;
type ServiceName = (typeof SERVICES)[number];

/** pino's level numbers, for the printed lines. */
const LEVELS: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Per-request lines say little here: hidden unless --verbose. */
const QUIET = new Set(['incoming request', 'request completed']);

function print(who: string, text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${`[${who}]`.padEnd(10)} ${text}\n`);
}

/** One log line of a service, made readable: its message and the fields worth seeing. */
function describe(line: string, verbose: boolean): string | null {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trim() === '' ? null : line;
  }
  const msg = String(entry.msg ?? '');
  // Access decisions granted are traced at info: hidden too (refusals are shown).
  if (!verbose && (QUIET.has(msg) || Number(entry.level) < 30 || entry.granted === true)) return null;
  const skip = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'reqId', 'api', 'module', 'v']);
  const fields = Object.entries(entry)
    .filter(([key]) => !skip.has(key))
    .map(([key, value]) => `${key}=${key === 'err' ? ((value as { message?: string }).message ?? '') : typeof value === 'string' ? value : JSON.stringify(value)}`);
  const level = Number(entry.level) === 30 ? '' : `${LEVELS[Number(entry.level)] ?? entry.level} `;
  return `${level}${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Starts one `fusion serve` and resolves once it listens (rejects when it exits first). */
function serve(name: ServiceName, port: number, storageUrl: string, env: NodeJS.ProcessEnv, verbose: boolean, children: ChildProcess[]): Promise<ChildProcess> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', `examples/fleet/${name}/config.yaml`, '--port', String(port), '--storage-url', storageUrl];
  // Its own process group: Ctrl-C reaches this script only, which stops the services in order.
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  return new Promise((resolve, reject) => {
    const onLine = (line: string): void => {
      const text = describe(line, verbose);
      if (text !== null) print(name, text);
      if (/listening at http/i.test(line)) resolve(child);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before listening`)));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'storage-url': { type: 'string', default: process.env.FUSION_STORAGE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
      port: { type: 'string', default: '8100' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const base = Number(values.port);
  if (!Number.isInteger(base) || base < 0 || base > 65533) throw new Error(`--port must be an integer from 0 to 65533, got ${values.port}`);
  const [central, tracker, scanner] = base === 0 ? await freePorts(3) : [base, base + 1, base + 2];
  const urls: Record<ServiceName, string> = {
    central: `http://127.0.0.1:${central}`,
    tracker: `http://127.0.0.1:${tracker}`,
    scanner: `http://127.0.0.1:${scanner}`,
  };
  const ports: Record<ServiceName, number> = { central: central!, tracker: tracker!, scanner: scanner! };
  const env = {
    ...process.env,
    FLEET_TRACKER_URL: urls.tracker,
    FLEET_SCANNER_URL: urls.scanner,
    FLEET_SCANNER_HOOK: `${urls.scanner}/api/hooks/tracker`,
  };
  const children: ChildProcess[] = [];
  let stopping: Promise<number> | null = null;
  const stop = (code: number): Promise<number> =>
    (stopping ??= (async () => {
      print('fleet', 'stopping...');
      // The central service first (it calls the others), the tracker last (the scanner follows it).
      for (const child of [...children].reverse()) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      print('fleet', 'stopped');
      return code;
    })());
  process.once('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));
  const signalled = new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (): void => {
      if (++signals === 1) return resolve(stop(0));
      print('fleet', 'second signal: killing the services');
      process.exit(1); // the 'exit' handler above sends SIGKILL
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  print('fleet', `storage ${values['storage-url'].replace(/:[^:@/]*@/, ':***@')} (schemas fleet_tracker, fleet_scanner, fleet_central)`);
  try {
    for (const name of SERVICES) {
      const child = await serve(name, ports[name], values['storage-url'], env, values.verbose, children);
      child.once('exit', (code, signal) => {
        if (stopping === null) {
          print('fleet', `${name} exited (${signal ?? code}): stopping the fleet`);
          void stop(1).then((c) => process.exit(c));
        }
      });
    }
  } catch (error) {
    print('fleet', (error as Error).message);
    return stop(1);
  }
  print('fleet', `ready: ${JSON.stringify(urls)}`);
  print('fleet', `try it: npx tsx examples/fleet/try.ts --central ${urls.central} --tracker ${urls.tracker} --scanner ${urls.scanner}`);
  print('fleet', 'users: analyst / analyst-demo-password on every service; Ctrl-C stops the fleet');
  return signalled;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`fleet: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
