/** The counter `fusion_task_runs_total{task, outcome}` fed by a task runner's events. */
import type { FusionMetrics } from '../metrics/registry.js';
import type { FusionTaskRunner } from './runner.js';

/** Counts `runner`'s attempts on `metrics`: outcome `success`, `failure` (each failed attempt) or `skipped` (still running). */
export function countTaskRuns(runner: FusionTaskRunner, metrics: FusionMetrics): void {
  const runs = metrics.counter<'task' | 'outcome'>({
    name: 'fusion_task_runs_total',
    help: 'Task run attempts on this instance, by task and outcome (success, failure, skipped)',
    labelNames: ['task', 'outcome'],
  });
  runner.on('run', (task) => runs.inc({ task, outcome: 'success' }));
  runner.on('failure', (task) => runs.inc({ task, outcome: 'failure' }));
  runner.on('skipped', (task) => runs.inc({ task, outcome: 'skipped' }));
}
