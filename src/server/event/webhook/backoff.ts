/** Retry spacing of webhook deliveries: exponential backoff with full jitter. */

/**
 * Milliseconds to wait after failed attempt number `attempt` (1 = the first): a uniformly
 * random time in [0, min(maxMs, baseMs * 2^(attempt-1))] ("full jitter"), so that receivers
 * coming back after an outage are not hit by every sender at once.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
