import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readSession, sessionFilePath } from '../../../src/cli/session-store.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';

describe('fusion login / logout, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-session-'));
    t = await createTestServer({ users: [{ username: 'ann', password: 'ann-password', groups: ['users'] }] });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the session file by FUSION_SESSION_FILE, else XDG_CONFIG_HOME, else HOME', () => {
    expect(sessionFilePath({ FUSION_SESSION_FILE: '/x/s.json', XDG_CONFIG_HOME: '/c' })).toBe('/x/s.json');
    expect(sessionFilePath({ XDG_CONFIG_HOME: '/c', HOME: '/h' })).toBe('/c/fusion/session.json');
    expect(sessionFilePath({ HOME: '/h' })).toBe('/h/.config/fusion/session.json');
  });

  it('login keeps a session (file mode 600, directory 700) that later commands use; logout ends it', async () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'config') };
    const path = join(dir, 'config', 'fusion', 'session.json');
    const login = await runFusion(['login', '--url', t.baseUrl, '--username', 'ann'], { env, stdin: 'ann-password\n' });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toContain(`logged in to ${t.baseUrl} as ann`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'config', 'fusion'))).mode & 0o777).toBe(0o700);
    const session = await readSession(path);
    expect(session).toMatchObject({ url: t.baseUrl, username: 'ann', cookieName: 'FUSION_SESSION', cookie: expect.any(String) });

    // No --url, no key: the session's URL and cookie; the case belongs to ann's group.
    const created = await runFusion(['case', 'create', '--name', 'by ann', '--acs', 'users', '--json'], { env });
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'by ann', managed: false });
    // Attaching is for API keys only: a logged-in user gets exit code 3.
    const guid = (JSON.parse(created.stdout) as { guid: string }).guid;
    const attach = await runFusion(['case', 'attach', guid, '5f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d'], { env });
    expect(attach.code).toBe(3);

    const logout = await runFusion(['logout'], { env });
    expect(logout).toMatchObject({ code: 0, stdout: `logged out of ${t.baseUrl}\n` });
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    // The server forgot the session too: the old cookie is refused.
    await expect(
      t.connect({ headers: { cookie: `FUSION_SESSION=${session!.cookie}` } }).case.enumerateCases(),
    ).rejects.toMatchObject({ status: 401 });
    expect((await runFusion(['case', 'list', '--url', t.baseUrl], { env })).code).toBe(3);
    expect(await runFusion(['logout'], { env })).toMatchObject({ code: 0, stderr: 'fusion logout: no session stored\n' });
  });

  it('a refused login exits 3 and stores nothing; missing username or URL exit 2', async () => {
    const env = { FUSION_SESSION_FILE: join(dir, 'refused.json'), FUSION_URL: t.baseUrl };
    const refused = await runFusion(['login', '--username', 'ann'], { env, stdin: 'wrong\n' });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('FUSION_ERR_LOGIN_FAILED');
    await expect(stat(join(dir, 'refused.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await runFusion(['login'], { env, stdin: 'x\n' })).code).toBe(2);
    expect((await runFusion(['login', '--username', 'ann'], { env: {}, stdin: 'x\n' })).code).toBe(2);
  });
});
