/**
 * `fusion login` / `fusion logout`: a session kept in the per-user session file (mode 600), used
 * by the other commands for that URL when no API key is given.
 */
import type { FusionClient } from '../../client/client.js';
import { isFusionClientError } from '../../client/errors.js';
import { readPasswordFromPipe, readPasswordFromTerminal } from '../commands/hash-password.js';
import type { CliIO } from '../cli-io.js';
import { CliUsageError } from '../exit-codes.js';
import { printResult } from '../output.js';
import { action } from '../runtime.js';
import { readSession, removeSession, sessionFilePath, writeSession } from '../session-store.js';
import type { CommandGroup } from '../command-group.js';

interface LoginOptions {
  url?: string;
  username?: string;
  cookieName: string;
  json?: boolean;
}

/** Reads one line from a terminal (the username prompt), echoed. */
function readLine(io: CliIO, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      const end = text.search(/\r?\n/);
      if (end < 0) return;
      io.stdin.removeListener('data', onData);
      io.stdin.pause();
      resolve(text.slice(0, end));
    };
    io.stderr.write(prompt);
    io.stdin.resume();
    io.stdin.on('data', onData);
  });
}

/** Registers `fusion login` and `fusion logout`. */
export const sessionCommands: CommandGroup = (program, runtime) => {
  const { io } = runtime;
  program
    .command('login')
    .description('Log in with a username and password (password on stdin, or prompted); keeps the session for later commands')
    .option('--url <url>', 'service URL (default: $FUSION_URL)')
    .option('-u, --username <name>', 'username (prompted on a terminal when missing)')
    .option('--cookie-name <name>', "the service's session cookie (auth.cookie.name)", 'FUSION_SESSION')
    .option('--json', 'print the identity as JSON')
    .action(
      action(runtime, async (command) => {
        const options = command.opts<LoginOptions>();
        const url = options.url ?? io.env.FUSION_URL;
        if (!url) throw new CliUsageError('no service URL: pass --url URL or set FUSION_URL');
        const terminal = io.stdin.isTTY === true;
        const username = options.username ?? (terminal ? await readLine(io, 'Username: ') : undefined);
        if (!username) throw new CliUsageError('--username is required when standard input is not a terminal');
        const password = terminal ? await readPasswordFromTerminal(io, 'Password: ') : await readPasswordFromPipe(io.stdin);
        if (password === '') throw new CliUsageError('the password is empty');
        const { FusionClient } = await import('../../client/client.js');
        const { FusionAuthAPIClient } = await import('../../client/api/auth.js');
        let client: FusionClient;
        try {
          client = new FusionClient({ baseUrl: url, cookieName: options.cookieName });
        } catch (error) {
          throw new CliUsageError((error as Error).message);
        }
        try {
          const identity = await new FusionAuthAPIClient({ client }).login(username, password);
          const cookie = client.sessionCookie;
          if (cookie === null) throw new CliUsageError(`the server set no ${options.cookieName} cookie: pass its auth.cookie.name with --cookie-name`);
          const path = sessionFilePath(io.env);
          await writeSession(path, { url, cookieName: options.cookieName, cookie, username: identity.username, created: new Date().toISOString() });
          printResult(io.stdout, options.json === true, identity, (who) => `logged in to ${url} as ${who.username} (session in ${path})\n`);
        } finally {
          await client.close();
        }
      }),
    );

  program
    .command('logout')
    .description('Log out of the service of the stored session and forget the session')
    .action(
      action(runtime, async () => {
        const path = sessionFilePath(io.env);
        const session = await readSession(path);
        if (session === null) {
          await removeSession(path);
          io.stderr.write('fusion logout: no session stored\n');
          return 0;
        }
        const { FusionClient } = await import('../../client/client.js');
        const { FusionAuthAPIClient } = await import('../../client/api/auth.js');
        const client = new FusionClient({ baseUrl: session.url, cookieName: session.cookieName, headers: { cookie: `${session.cookieName}=${session.cookie}` } });
        try {
          await new FusionAuthAPIClient({ client }).logout();
        } catch (error) {
          // An expired session is as good as logged out; anything else is reported (the file goes anyway).
          if (!(isFusionClientError(error) && error.status === 401)) throw error;
        } finally {
          await client.close();
          await removeSession(path);
        }
        io.stdout.write(`logged out of ${session.url}\n`);
        return 0;
      }),
    );
};
