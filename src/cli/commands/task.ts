/**
 * `fusion task NAME --config FILE [--once]`: runs one task of the service module (on its
 * schedule until SIGINT/SIGTERM, or once and exit 0 when it succeeded, 1 when it failed).
 * Its runs are counted in `fusion_task_runs_total`, served with `--metrics-port`.
 */
import { EXIT_USAGE } from '../command.js';
import type { FusionCommand } from '../command.js';
import { parseMetricsPort, startRoleMetrics } from './role-metrics.js';
import { parseRoleArguments, roleFail, startRole, stopOnSignals } from './role.js';

const USAGE = 'fusion task NAME --config FILE [--once] [--metrics-port PORT] [--storage-url URL]';

/** Runs `fusion task`. */
export async function runTask(args: readonly string[]): Promise<number | void> {
  const parsed = parseRoleArguments('task', USAGE, args, { once: { type: 'boolean' }, 'metrics-port': { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const metricsPort = parseMetricsPort(parsed.values['metrics-port']);
  if (typeof metricsPort === 'string') return roleFail('task', `${metricsPort}\nusage: ${USAGE}`, EXIT_USAGE);
  if (metricsPort !== undefined && parsed.values.once) return roleFail('task', `--metrics-port serves a running task: it cannot go with --once\nusage: ${USAGE}`, EXIT_USAGE);
  const role = await startRole('task', parsed);
  if (typeof role === 'number') return role;
  const { server } = role;
  // Loaded here, not at the top: the other commands start without the task stack.
  const { FusionTaskRunner } = await import('../../server/task/runner.js');
  const { synchronizerTask } = await import('../../server/task/synchronizer.js');
  const { countTaskRuns } = await import('../../server/task/task-metrics.js');
  const builtin = synchronizerTask(server);
  const tasks = builtin ? [...role.tasks, builtin] : role.tasks;
  const task = tasks.find((candidate) => candidate.name === parsed.name);
  if (!task) {
    await server.close();
    return roleFail('task', `the service has no task named ${JSON.stringify(parsed.name)}; its tasks: ${tasks.map((t) => t.name).join(', ') || 'none'}`, EXIT_USAGE);
  }
  const runner = new FusionTaskRunner({ storage: server.storage, logger: server.logger.child({ module: 'task' }) }).register(task);
  countTaskRuns(runner, server.metrics);
  if (parsed.values.once) {
    try {
      return (await runner.runOnce(task.name)) ? 0 : 1;
    } finally {
      await runner.stop();
      await server.close();
    }
  }
  const metrics = await startRoleMetrics('task', server, metricsPort);
  if (typeof metrics === 'number') return metrics;
  stopOnSignals(server, async () => {
    await runner.stop();
    await metrics?.close();
  });
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
