/**
 * `fusion cloud ls|get|put|rm|mkdir|zip|perms|roles`: the cloud file tree (FusionCloudAPIClient),
 * uploads and downloads with progress (see transfer.ts).
 */
import { stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { Command } from 'commander';
import type { CloudPrincipalRef, CloudRoleAssignment, FusionCloudAPIClient } from '../../client/api/cloud.js';
import type { CloudEntry } from '../../concept/index.js';
import type { FusionClient } from '../../client/client.js';
import type { CommandGroup } from '../command-group.js';
import { withConnectionOptions } from '../connection.js';
import { CliUsageError } from '../exit-codes.js';
import { formatRecord, formatTable, printResult } from '../output.js';
import { clientAction } from '../runtime.js';
import { runTransfer } from '../transfer.js';
import type { TransferControls } from '../transfer.js';

async function cloud(client: FusionClient): Promise<FusionCloudAPIClient> {
  const { FusionCloudAPIClient } = await import('../../client/api/cloud.js');
  return new FusionCloudAPIClient({ client });
}

function entriesTable(entries: readonly CloudEntry[]): string {
  return formatTable(
    ['name', 'type', 'size', 'updated', 'creator'],
    entries.map((entry) => [entry.name, entry.type, entry.size, entry.updated, entry.creator]),
  );
}

function rolesTable(assignments: readonly CloudRoleAssignment[]): string {
  return assignments.length === 0 ? 'no assignments\n' : formatTable(['path', 'user', 'group', 'role'], assignments.map((a) => [a.path, a.user, a.group, a.role]));
}

/** The local file for a download: `output` itself, or `name` inside it when it is a directory. */
async function localTarget(output: string | undefined, name: string): Promise<string> {
  if (output === undefined) return name;
  const found = await stat(output).catch(() => null);
  return found?.isDirectory() ? join(output, name) : output;
}

/** A command that fetches something from the tree into a local file (get, zip). */
interface FetchSpec {
  name: string;
  description: string;
  argument: string;
  argumentHelp: string;
  outputHelp: string;
  /** Progress label. */
  label: string;
  /** The local file name when `-o` is absent or a directory. */
  localName(remote: string): string;
  fetch(api: FusionCloudAPIClient, remote: string, target: string, controls: TransferControls): Promise<{ path: string; bytes: number }>;
}

function withProgressOption(command: Command): Command {
  return command.option('--no-progress', 'print no progress');
}

/** Registers `fusion cloud ...`. */
export const cloudCommands: CommandGroup = (program, runtime) => {
  const group = program.command('cloud').description('List, upload, download, zip and delete files of the cloud tree; see and assign roles');
  const out = runtime.io.stdout;

  withConnectionOptions(group.command('ls').description('List a directory (GET /api/cloud/tree/DIR)').argument('[dir]', 'directory', '/')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      printResult(out, json, await (await cloud(client)).list(command.processedArgs[0] as string), entriesTable);
    }),
  );

  const fetchCommand = (spec: FetchSpec): void => {
    withConnectionOptions(withProgressOption(group.command(spec.name).description(spec.description).argument(spec.argument, spec.argumentHelp).option('-o, --output <local>', spec.outputHelp))).action(
      clientAction(runtime, async ({ client, json }, command) => {
        const remote = command.processedArgs[0] as string;
        const options = command.opts<{ output?: string; progress: boolean }>();
        const target = await localTarget(options.output, spec.localName(remote));
        const api = await cloud(client);
        const result = await runTransfer(runtime.io.stderr, spec.label, options.progress, (controls) => spec.fetch(api, remote, target, controls), (done) => done.bytes);
        printResult(out, json, result, (value) => `${value.path}\n`);
      }),
    );
  };

  fetchCommand({
    name: 'get',
    description: 'Download a file (GET /api/cloud/file/PATH), resuming a dropped connection',
    argument: '<path>',
    argumentHelp: 'file in the cloud tree',
    outputHelp: 'a file, or an existing directory (default: the file name, here)',
    label: 'download',
    localName: (remote) => posix.basename(remote),
    fetch: (api, remote, target, controls) => api.download(remote, target, controls),
  });

  withConnectionOptions(
    withProgressOption(
      group
        .command('put')
        .description('Upload a file (tus 1.0 at /api/cloud/uploads/, resumed after a dropped connection); prints the stored entry')
        .argument('<local>', 'local file')
        .argument('[path]', 'where in the cloud tree (default: /NAME; a path ending in / gets NAME appended)')
        .option('--overwrite', 'replace an existing file')
        .option('--no-resumable', 'send one plain PUT /api/cloud/file/PATH instead (a refusal of a large file may then show as a dropped connection)'),
    ),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [local, given] = command.processedArgs as [string, string | undefined];
      const options = command.opts<{ overwrite?: boolean; resumable: boolean; progress: boolean }>();
      const found = await stat(local).catch(() => null);
      if (!found?.isFile()) throw new CliUsageError(`${local}: not a readable file`);
      const remote = given === undefined ? `/${basename(local)}` : given.endsWith('/') ? `${given}${basename(local)}` : given;
      const api = await cloud(client);
      const entry = await runTransfer(
        runtime.io.stderr,
        'upload',
        options.progress,
        (controls) => api.upload(local, remote, { ...controls, overwrite: options.overwrite === true, resumable: options.resumable }),
        (stored) => stored.size,
      );
      printResult(out, json, entry, (value) => formatRecord({ ...value }));
    }),
  );

  withConnectionOptions(
    group
      .command('rm')
      .description('Delete a file (DELETE /api/cloud/file/PATH), or a directory with -d (empty) or -r (with its content)')
      .argument('<path>', 'file or directory')
      .option('-d, --dir', 'the path is an empty directory')
      .option('-r, --recursive', 'the path is a directory: delete it with its content'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const path = command.processedArgs[0] as string;
      const options = command.opts<{ dir?: boolean; recursive?: boolean }>();
      const api = await cloud(client);
      if (options.dir || options.recursive) await api.deleteDirectory(path, { recursive: options.recursive === true });
      else await api.delete(path);
      printResult(out, json, { deleted: path }, () => `deleted ${path}\n`);
    }),
  );

  withConnectionOptions(group.command('mkdir').description('Create a directory (POST /api/cloud/directory/DIR); its creator gets cloud.creator_role').argument('<dir>', 'directory')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      printResult(out, json, await (await cloud(client)).createDirectory(command.processedArgs[0] as string), (value) => formatRecord({ ...value }));
    }),
  );

  fetchCommand({
    name: 'zip',
    description: 'Download a zip of what you may read in a directory (GET /api/cloud/zip/DIR)',
    argument: '<dir>',
    argumentHelp: 'directory',
    outputHelp: 'a file, or an existing directory (default: DIR-NAME.zip, here)',
    label: 'zip',
    localName: (dir) => `${posix.basename(posix.resolve('/', dir)) || 'cloud'}.zip`,
    fetch: (api, dir, target, controls) => api.downloadZip(dir, target, controls),
  });

  withConnectionOptions(group.command('perms').description('Your role and permissions on a path (GET /api/cloud/permissions/PATH)').argument('<path>', 'file or directory')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      printResult(out, json, await (await cloud(client)).permissions(command.processedArgs[0] as string), (value) => formatRecord({ ...value }));
    }),
  );

  withConnectionOptions(
    group
      .command('roles')
      .description('List the role assignments on a path; with --set ROLE or --remove, change the one of --user or --group first (needs ASSIGN_ROLES)')
      .argument('<path>', 'file or directory')
      .option('--user <name>', 'the user whose assignment to change')
      .option('--group <name>', 'the group whose assignment to change')
      .option('--set <role>', 'give this role (a name of cloud.roles)')
      .option('--remove', 'remove the assignment (the inherited one applies again)'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const path = command.processedArgs[0] as string;
      const options = command.opts<{ user?: string; group?: string; set?: string; remove?: boolean }>();
      const api = await cloud(client);
      const changes = options.set !== undefined || options.remove === true;
      const named = (options.user === undefined ? 0 : 1) + (options.group === undefined ? 0 : 1);
      if (options.set !== undefined && options.remove === true) throw new CliUsageError('give --set ROLE or --remove, not both');
      if (changes && named !== 1) throw new CliUsageError('--set and --remove need exactly one of --user NAME or --group NAME');
      if (!changes && named > 0) throw new CliUsageError('--user and --group need --set ROLE or --remove');
      if (changes) {
        const principal: CloudPrincipalRef = options.user !== undefined ? { user: options.user } : { group: options.group! };
        if (options.set !== undefined) await api.assignRole(path, principal, options.set);
        else await api.removeRole(path, principal);
      }
      printResult(out, json, await api.roles(path), rolesTable);
    }),
  );
};
