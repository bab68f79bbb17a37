/** DeadlineSweep: many deadlines behind one timer. */
import { describe, expect, it } from '@jest/globals';
import { DeadlineSweep } from '../../src/helper/deadline-sweep.js';
import type { Expiring } from '../../src/helper/deadline-sweep.js';

function item(name: string, inMs: number, expired: string[], onExpire?: () => void): Expiring {
  return {
    deadline: Date.now() + inMs,
    expire: () => {
      expired.push(name);
      onExpire?.();
    },
  };
}

describe('DeadlineSweep', () => {
  it('expires what is due, in any insertion order, and never what was deleted', async () => {
    const sweep = new DeadlineSweep<Expiring>();
    const expired: string[] = [];
    let done!: () => void;
    const last = new Promise<void>((resolve) => (done = resolve));
    sweep.add(item('late', 120, expired, done));
    sweep.add(item('early', 20, expired)); // comes before the timer's deadline: rescheduled
    const deleted = item('deleted', 10, expired);
    sweep.add(deleted);
    sweep.delete(deleted);
    await last;
    expect(expired).toEqual(['early', 'late']);
    expect(sweep.size).toBe(0);
    sweep.clear();
  });

  it('clear() forgets every item and stops the timer', async () => {
    const sweep = new DeadlineSweep<Expiring>();
    const expired: string[] = [];
    sweep.add(item('a', 10, expired));
    sweep.clear();
    let done!: () => void;
    const witness = new Promise<void>((resolve) => (done = resolve));
    sweep.add(item('b', 30, expired, done)); // a later item, after clear(), still expires on its own
    await witness;
    expect(expired).toEqual(['b']);
    sweep.clear();
  });
});
