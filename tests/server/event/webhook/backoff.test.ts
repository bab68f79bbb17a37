import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { retryDelayMs } from '../../../../src/server/event/webhook/backoff.js';

describe('retryDelayMs', () => {
  it('doubles the ceiling per attempt up to the maximum (full jitter below it)', () => {
    const top = (): number => 1 - Number.EPSILON;
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 100, 1000, top))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(retryDelayMs(3, 100, 1000, () => 0)).toBe(0);
    expect(retryDelayMs(1000, 100, 1000, top)).toBe(999);
  });

  it('always stays within [0, min(max, base * 2^(n-1))]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 3_600_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, max, r) => {
        const delay = retryDelayMs(n, base, max, () => r);
        return delay >= 0 && delay <= Math.min(max, base * 2 ** Math.min(Math.max(n, 1) - 1, 52)) && Number.isInteger(delay);
      }),
    );
  });
});
