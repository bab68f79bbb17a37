/**
 * `fusion events subscribe CASE`: prints a case's events as they come (Server-Sent Events,
 * resumed after a dropped connection), one line each (one JSON object per line with `--json`),
 * until Ctrl-C or `--count` events.
 */
import { InvalidArgumentError } from 'commander';
import type { Event } from '../../concept/index.js';
import { withConnectionOptions } from '../connection.js';
import { cell } from '../output.js';
import { clientAction } from '../runtime.js';
import type { CommandGroup } from '../command-group.js';

function eventLine(event: Event, id: string | null): string {
  const wire = event.toJSON() as { source: string; category: string; case: { guid: string; name: string }; ext?: unknown };
  const ext = wire.ext === undefined ? '' : `  ${cell(wire.ext)}`;
  return `${id ?? '-'}  ${wire.category}  ${wire.source}  ${wire.case.guid}  ${cell(wire.case.name)}${ext}\n`;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected an integer >= 1');
  return n;
}

/** Registers `fusion events subscribe`. */
export const eventsCommands: CommandGroup = (program, runtime) => {
  const group = program.command('events').description("Follow a case's events");
  withConnectionOptions(
    group
      .command('subscribe')
      .description('Print the events of a case as they come (GET /api/events/case/GUID), until Ctrl-C')
      .argument('<case-guid>', 'case guid')
      .option('--count <n>', 'exit after this many events (the first is `subscribers`)', count)
      .option('--last-event-id <id>', 'resume after this event id (replays what was missed)'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const options = command.opts<{ count?: number; lastEventId?: string }>();
      const { FusionEventAPIClient } = await import('../../client/api/event.js');
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let seen = 0;
      try {
        const subscription = new FusionEventAPIClient({ client }).subscribe(command.processedArgs[0] as string, {
          signal: controller.signal,
          ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
        });
        for await (const event of subscription) {
          runtime.io.stdout.write(json ? `${JSON.stringify(event)}\n` : eventLine(event, subscription.lastEventId));
          seen++;
          if (options.count !== undefined && seen >= options.count) break;
        }
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
      return 0;
    }),
  );
};
