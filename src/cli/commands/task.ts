/**
 * `fusion task NAME --config FILE [--once]`: runs one task of the service module (on its
 * schedule until SIGINT/SIGTERM, or once and exit 0 when it succeeded, 1 when it failed).
 */
import { EXIT_USAGE } from '../command.js';
import type { FusionCommand } from '../command.js';
import { parseRoleArguments, roleFail, startRole, stopOnSignals } from './role.js';

const USAGE = 'fusion task NAME --config FILE [--once] [--storage-url URL]';

/** Runs `fusion task`. */
export async function runTask(args: readonly string[]): Promise<number | void> {
  const parsed = parseRoleArguments('task', USAGE, args, { once: { type: 'boolean' } });
  if (typeof parsed === 'number') return parsed;
  const role = await startRole('task', parsed);
  if (typeof role === 'number') return role;
  const { server } = role;
  // Loaded here, not at the top: the other commands start without the task stack.
  const { FusionTaskRunner } = await import('../../server/task/runner.js');
  const { synchronizerTask } = await import('../../server/task/synchronizer.js');
  const builtin = synchronizerTask(server);
  const tasks = builtin ? [...role.tasks, builtin] : role.tasks;
  const task = tasks.find((candidate) => candidate.name === parsed.name);
  if (!task) {
    await server.close();
    return roleFail('task', `the service has no task named ${JSON.stringify(parsed.name)}; its tasks: ${tasks.map((t) => t.name).join(', ') || 'none'}`, EXIT_USAGE);
  }
  const runner = new FusionTaskRunner({ storage: server.storage, logger: server.logger.child({ module: 'task' }) }).register(task);
  if (parsed.values.once) {
    try {
      return (await runner.runOnce(task.name)) ? 0 : 1;
    } finally {
      await runner.stop();
      await server.close();
    }
  }
  stopOnSignals(server, () => runner.stop());
  await runner.start();
  process.stdout.write(`fusion task: ${task.name} started (${task.on}${task.singleton ? ', singleton' : ''})\n`);
}

/** The `task` command. */
export const taskCommand: FusionCommand = {
  name: 'task',
  summary: "Run one of the service module's tasks (on its schedule, or --once)",
  usage: USAGE,
  run: runTask,
};
