import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { runFusion } from './run-fusion.js';

describe('docs/cli.md', () => {
  it('lists the exit codes exactly as EXIT_CODES and `fusion --help` state them', async () => {
    const page = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const rows = [...page.matchAll(/^\| (\d) \| ([a-z ]+) \|/gm)].map((match) => [Number(match[1]), match[2]!.replace(/ /g, '')]);
    expect(rows).toEqual(Object.entries(EXIT_CODES).map(([name, code]) => [code, name.toLowerCase()]));
    const help = (await runFusion(['--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('Exit codes: 0 ok, 1 failure, 2 usage, 3 auth, 4 not found, 5 conflict, 6 server, 7 unreachable, 8 refused (docs/cli.md).');
  });
});
