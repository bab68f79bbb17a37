import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { COMMANDS } from '../../src/cli/commands.js';
import { completionTable } from '../../src/cli/completion.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { createProgram } from '../../src/cli/program.js';
import { runFusion } from './run-fusion.js';

const page = (): Promise<string> => readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it('lists the exit codes exactly as EXIT_CODES and `fusion --help` state them', async () => {
    const rows = [...(await page()).matchAll(/^\| (\d) \| ([a-z ]+) \|/gm)].map((match) => [Number(match[1]), match[2]!.replace(/ /g, '')]);
    expect(rows).toEqual(Object.entries(EXIT_CODES).map(([name, code]) => [code, name.toLowerCase()]));
    const help = (await runFusion(['--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('Exit codes: 0 ok, 1 failure, 2 usage, 3 auth, 4 not found, 5 conflict, 6 server, 7 unreachable, 8 refused (docs/cli.md).');
  });

  it('names every command of the program in its table (`fusion case list`, `fusion cloud roles`...)', async () => {
    const stream = { write: () => true } as unknown as NodeJS.WritableStream;
    const program = createProgram(COMMANDS, { io: { stdin: process.stdin, stdout: stream, stderr: stream, env: {} }, exitCode: undefined, ran: false });
    // Each `fusion GROUP SUB ...` of the table's first column, with `a \| b` alternatives spelled out after the group.
    const documented = new Set<string>();
    for (const line of (await page()).split('\n').filter((row) => row.startsWith('| `fusion '))) {
      const cell = line.slice(2).split(/(?<!\\)\|/)[0]!;
      for (const [, usage] of cell.matchAll(/`fusion ([^`]*)`/g)) {
        const [group, ...rest] = usage!.replace(/\\\|/g, '|').split(' ');
        documented.add(group!);
        for (const alternative of rest.join(' ').split('|')) {
          const sub = alternative.trim().split(' ')[0]!;
          if (/^[a-z-]+$/.test(sub)) documented.add(`${group} ${sub}`);
        }
      }
    }
    const paths = [...completionTable(program).keys()].filter((path) => path !== '');
    expect(paths.filter((path) => !documented.has(path))).toEqual([]);
  });
});
