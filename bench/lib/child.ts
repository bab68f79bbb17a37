/**
 * Benchmark servers in child processes (so their CPU and memory are measured apart from the
 * load generator): the benchmark file forks itself with a role, the child answers over IPC.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** Any IPC message: a `type` tag plus its fields. */
export interface ChildMessage {
  type: string;
}

/** A running server child: its URL and a request/answer helper over IPC. */
export interface BenchChild<To extends ChildMessage, From extends ChildMessage> {
  process: ChildProcess;
  url: string;
  /** Sends `message`, resolves with the next message of type `answer`. */
  ask<T extends From['type']>(message: To, answer: T): Promise<Extract<From, { type: T }>>;
}

/** The next message of `type` from `child`; rejects if the child exits first. */
export function nextMessage<From extends ChildMessage, T extends From['type']>(
  child: ChildProcess,
  role: string,
  type: T,
): Promise<Extract<From, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: From): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<From, { type: T }>);
    };
    const onExit = (code: number | null): void => reject(new Error(`${role} server exited (${code}) before answering ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks `script` (run through tsx) with `env`, and waits for its `{type: 'ready', url}`. */
export async function startBenchChild<To extends ChildMessage, From extends ChildMessage>(options: {
  script: string;
  role: string;
  env: Record<string, string>;
  execArgv?: string[];
}): Promise<BenchChild<To, From>> {
  const { script, role, env, execArgv = [] } = options;
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = (await nextMessage<ChildMessage & { url?: string }, 'ready'>(child, role, 'ready')) as { url: string };
  return {
    process: child,
    url: ready.url,
    ask: (message, answer) => {
      const waiting = nextMessage<From, typeof answer>(child, role, answer);
      child.send(message);
      return waiting;
    },
  };
}
