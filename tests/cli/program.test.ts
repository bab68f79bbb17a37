import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import type { FusionCommand } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { EXIT_CODES, exitCodeFor } from '../../src/cli/exit-codes.js';
import { FusionRpcError } from '../../src/client/api/rpc.js';
import { FusionClientError } from '../../src/client/errors.js';
import { runFusion } from './run-fusion.js';

/** A command as another module adds one to commands.ts: it sees its arguments untouched. */
const seen: (readonly string[])[] = [];
const echoCommand: FusionCommand = {
  name: 'echo-args',
  summary: 'Print the arguments',
  usage: 'fusion echo-args [anything]',
  async run(args) {
    seen.push(args);
    return args.includes('fail') ? 9 : 0;
  },
};

function bash(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('the fusion program', () => {
  it('registers every FusionCommand of the list, passing its arguments and exit code through', async () => {
    const commands = [...COMMANDS, echoCommand];
    const run = await runFusion(['echo-args', 'task-name', '--flag', 'value', '-x', '--json'], { commands });
    expect(run.code).toBe(0);
    expect(seen.at(-1)).toEqual(['task-name', '--flag', 'value', '-x', '--json']);
    expect((await runFusion(['echo-args', 'fail'], { commands })).code).toBe(9);
    const help = await runFusion(['echo-args', '--help'], { commands });
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toContain('usage: fusion echo-args [anything]');
    expect((await runFusion(['help'], { commands })).stdout).toMatch(/echo-args \[args\.\.\.\]\s+Print the arguments/);
  });

  it('answers --help at every level, with exit code 0', async () => {
    for (const argv of [['--help'], ['help'], ['case', '--help'], ['case', 'update', '--help'], ['events', 'subscribe', '-h'], ['download', '--help'], ['login', '--help'], ['init', '--help'], ['serve', '--help'],
      ['cloud', '--help'], ['cloud', 'put', '--help'], ['cloud', 'roles', '-h'], ['rpc', '--help'], ['rpc', 'call', '--help'], ['analysis', '--help'], ['analysis', 'queue', '--help'], ['completion', '--help']]) {
      const run = await runFusion(argv);
      expect([argv, run.code]).toEqual([argv, 0]);
      expect(run.stdout).toMatch(/^Usage: fusion/);
    }
    expect((await runFusion(['case', 'update', '--help'])).stdout).toContain('--close');
    expect((await runFusion(['cloud', 'get', '--help'])).stdout).toContain('--no-progress');
    expect((await runFusion(['rpc', 'call', '--help'])).stdout).toContain('--stream');
  });

  it('exits 2 on usage errors: no command, unknown command or option, missing argument, no URL', async () => {
    const none = await runFusion([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: fusion');
    expect(await runFusion(['cas'])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'cas'") });
    expect((await runFusion(['cas'])).stderr).toContain('(Did you mean case?)');
    expect(await runFusion(['case', 'list', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--bogus'") });
    expect((await runFusion(['case', 'get'])).code).toBe(2);
    expect(await runFusion(['case', 'list'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no service URL') });
    expect(await runFusion(['info', '--url', 'ftp://x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--url must use http: or https:') });
  });

  it('exits 7 when the service cannot be reached', async () => {
    const run = await runFusion(['info', '--url', 'http://127.0.0.1:9']);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('FUSION_ERR_CONNECTION');
  });

  it('maps client errors to exit codes by class', () => {
    const error = (status: number, code = 'FUSION_ERR_X') => new FusionClientError({ status, code, message: 'm', endpoint: 'GET /' });
    expect([401, 403, 404, 409, 500, 503, 400, 413, 429, 0].map((status) => exitCodeFor(error(status)))).toEqual([3, 3, 4, 5, 6, 6, 8, 8, 8, 7]);
    expect(exitCodeFor(error(200, 'FUSION_ERR_BAD_RESPONSE'))).toBe(EXIT_CODES.server);
    expect(exitCodeFor(new TypeError('FusionCaseAPIClient: caseGuid must be a non-empty string'))).toBe(EXIT_CODES.usage);
    const rpc = (rpcCode: number) => new FusionRpcError(rpcCode, 'FUSION_ERR_X', 'm');
    expect([-32001, -32003, -32004, -32601, -32009, -32602, -32600, -32700, -32029, -32603, -32008, -32010].map((code) => exitCodeFor(rpc(code)))).toEqual([3, 3, 4, 4, 5, 8, 8, 8, 8, 6, 6, 1]);
    expect(exitCodeFor(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(EXIT_CODES.failure);
  });

  it('completion bash: completes commands, sub-commands and options from the program tree', async () => {
    const script = (await runFusion(['completion', 'bash'])).stdout;
    const complete = (words: string) =>
      bash(`${script}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _fusion_complete; echo "\${COMPREPLY[*]}"`);
    expect((await complete("fusion ca")).trim()).toBe('case');
    expect((await complete("fusion case ''")).trim().split(' ')).toEqual(expect.arrayContaining(['list', 'get', 'create', 'update', 'delete', 'attach']));
    expect((await complete("fusion case update --c")).trim()).toBe('--close');
    expect((await complete("fusion --url http://x case li")).trim()).toBe('list');
    expect((await complete("fusion se")).trim()).toBe('serve');
    expect((await complete("fusion cloud ''")).trim().split(' ')).toEqual(expect.arrayContaining(['ls', 'get', 'put', 'rm', 'mkdir', 'zip', 'perms', 'roles']));
    expect((await complete("fusion cloud put --no-r")).trim()).toBe('--no-resumable');
    expect((await complete("fusion rpc ''")).trim().split(' ')).toContain('call');
    expect((await complete("fusion analysis ''")).trim().split(' ')).toEqual(expect.arrayContaining(['analyzers', 'queue', 'list', 'get', 'log']));
  });

  it('completion zsh: a compdef script with the same tree; exit 2 for another shell', async () => {
    const zsh = await runFusion(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef fusion/);
    expect(zsh.stdout).toContain("'case update') echo '--name --description");
    expect(zsh.stdout).toContain('compdef _fusion fusion');
    expect((await runFusion(['completion', 'fish'])).code).toBe(2);
  });
});
