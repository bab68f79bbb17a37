import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';
import { FUSION_FROM_SOURCES, inPty } from '../run-pty.js';

const SIZE = 4 * 1024 * 1024 + 5;

describe('fusion download, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let api: FusionDownloadAPI;
  let dir: string;
  let source: string;
  let data: Buffer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-cli-download-'));
    source = join(dir, 'evidence.bin');
    data = randomBytes(SIZE);
    await writeFile(source, data);
    // A long key lifetime: the terminal test starts a child process (seconds on a loaded machine) before its GET.
    t = await createTestServer({ config: { download: { timeout: 300 } } });
    api = t.server.apis.find((candidate) => candidate.name === 'download') as FusionDownloadAPI;
    env = { FUSION_URL: t.baseUrl, FUSION_API_KEY: t.apiKey };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('on a pipe: plain progress lines on stderr, the path on stdout, the file complete', async () => {
    const out = join(dir, 'piped');
    const key = await api.prepare(source, 'evidence.bin');
    const run = await runFusion(['download', '-o', out, '--', key.guid, key.token], { env });
    expect(run).toMatchObject({ code: 0, stdout: `${out}\n` });
    expect((await readFile(out)).equals(data)).toBe(true);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^download: 0% .* of 4\.0 MiB, .*\/s, ETA /);
    expect(lines.at(-1)).toMatch(/^download: done, 4\.0 MiB in [\d.]+s \([\d.]+ \w+\/s\)$/);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain('\u001b[');
  });

  it('into a directory, named by the server; --json; exit 4 for a spent key, 2 for a missing argument', async () => {
    const into = await mkdtemp(join(dir, 'into-'));
    const key = await api.prepare(source, 'report.bin');
    const run = await runFusion(['download', '-o', into, '--json', '--no-progress', '--', key.guid, key.token], { env });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ path: join(into, 'report.bin'), bytes: SIZE });
    const spent = await runFusion(['download', '-o', into, '--', key.guid, key.token], { env });
    expect(spent.code).toBe(4);
    expect(spent.stderr).toContain('FUSION_ERR_DOWNLOAD_NOT_FOUND');
    expect(await readdir(into)).toEqual(['report.bin']);
    expect((await runFusion(['download', key.guid], { env })).code).toBe(2);
  });

  it('on a terminal (a pseudo-terminal from `script`): a progress bar with speed and ETA', async () => {
    const key = await api.prepare(source, 'evidence.bin');
    const out = join(dir, 'tty.bin');
    const run = await inPty(`${FUSION_FROM_SOURCES} download -o '${out}' -- ${key.guid} ${key.token}`, env);
    if (run.code !== 0) throw new Error(`exit code ${run.code}: ${run.output}`);
    expect((await readFile(out)).equals(data)).toBe(true);
    // cli-progress draws the bar with block characters, redrawn in place, and its last frame is 100 %.
    expect(run.output).toMatch(/download \u2588+\u2591* \d+% \| [\d.]+ \w+ of 4\.0 MiB \| [\d.]+ \w+\/s \| ETA \S+/);
    expect(run.output).toContain('download \u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588 100% | 4.0 MiB of 4.0 MiB');
    expect(run.output).toContain('\u001b[?25l'); // cursor hidden while drawing
    expect(run.output).not.toContain('download: done'); // no plain lines on a terminal
    expect(run.output).toContain(out);
  }, 90_000);
});
