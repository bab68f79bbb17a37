import { describe, expect, it } from '@jest/globals';
import { KeyedMutex } from '../../../src/server/storage/keyed-mutex.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs callers of one key in arrival order, one at a time', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    let active = 0;
    const task = (name: string) => async () => {
      active += 1;
      expect(active).toBe(1);
      events.push(`${name}:in`);
      await tick();
      await tick();
      events.push(`${name}:out`);
      active -= 1;
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c'].map((name) => mutex.run('k', task(name))));
    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
    expect(mutex.isBusy('k')).toBe(false);
  });

  it('lets different keys run side by side', async () => {
    const mutex = new KeyedMutex();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = mutex.run('a', () => held);
    expect(await mutex.run('b', async () => 'b done')).toBe('b done');
    release();
    await slow;
  });

  it('releases after a throw', async () => {
    const mutex = new KeyedMutex();
    await expect(
      mutex.run('k', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(mutex.isBusy('k')).toBe(false);
    expect(await mutex.run('k', async () => 1)).toBe(1);
  });

  it('tryRun skips a busy key', async () => {
    const mutex = new KeyedMutex();
    const attempt = await mutex.run('k', () => mutex.tryRun('k', async () => 'never'));
    expect(attempt).toEqual({ acquired: false });
    expect(await mutex.tryRun('k', async () => 'ok')).toEqual({ acquired: true, value: 'ok' });
  });
});
