/**
 * The after-receive and before-send hooks of a framed connection (gateway or client): a chain of
 * transforms (start/end bytes, checksums, decryption...) that may change a frame or refuse it.
 */
import type { TcpFrame } from './framing.js';

/** What a hook returns: the frame to go on with, `undefined` to keep it unchanged, or `null`/`false` to refuse it. */
export type FrameHookResult = TcpFrame | null | false | undefined;

/** Transforms a received frame before classification and handlers; may be async. */
export type AfterReceiveHook<C> = (frame: TcpFrame, connection: C) => FrameHookResult | Promise<FrameHookResult>;

/** Transforms an outgoing frame before framing; synchronous, so `send` knows at once whether it was refused. */
export type BeforeSendHook<C> = (frame: TcpFrame, connection: C) => FrameHookResult;

/** True when `value` is a promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function next(frame: TcpFrame, result: FrameHookResult): TcpFrame | null {
  if (result === undefined) return frame;
  if (result === null || result === false) return null;
  return result;
}

/** Runs the after-receive hooks in order; the frame, or null once one refuses. Synchronous while the hooks are. */
export function runAfterReceive<C>(hooks: readonly AfterReceiveHook<C>[], frame: TcpFrame, connection: C): TcpFrame | null | Promise<TcpFrame | null> {
  let current: TcpFrame | null = frame;
  for (let i = 0; i < hooks.length; i++) {
    const result = hooks[i]!(current, connection);
    if (isThenable(result)) return finishAsync(hooks, i, current, result, connection);
    current = next(current, result);
    if (current === null) return null;
  }
  return current;
}

async function finishAsync<C>(
  hooks: readonly AfterReceiveHook<C>[],
  index: number,
  frame: TcpFrame,
  pending: Promise<FrameHookResult>,
  connection: C,
): Promise<TcpFrame | null> {
  let current = next(frame, await pending);
  for (let i = index + 1; i < hooks.length && current !== null; i++) current = next(current, await hooks[i]!(current, connection));
  return current;
}

/** Runs the before-send hooks in order; the frame to write, or null once one refuses. */
export function runBeforeSend<C>(hooks: readonly BeforeSendHook<C>[], frame: TcpFrame, connection: C): TcpFrame | null {
  let current: TcpFrame | null = frame;
  for (const hook of hooks) {
    const result = hook(current, connection);
    if (isThenable(result)) throw new TypeError('beforeSend hooks must be synchronous (they returned a promise)');
    current = next(current, result);
    if (current === null) return null;
  }
  return current;
}
