import { describe, expect, it } from '@jest/globals';
import { PubSub } from '../../src/helper/pubsub.js';

describe('PubSub', () => {
  it('delivers a message to the listeners of its topic only, in subscription order', () => {
    const hub = new PubSub<number>();
    const got: string[] = [];
    hub.subscribe('a', (n) => got.push(`a1:${n}`));
    hub.subscribe('a', (n) => got.push(`a2:${n}`));
    hub.subscribe('b', (n) => got.push(`b:${n}`));
    expect(hub.publish('a', 1)).toBe(2);
    expect(hub.publish('c', 2)).toBe(0);
    expect(got).toEqual(['a1:1', 'a2:1']);
    expect(hub.count()).toBe(3);
    expect(hub.count('a')).toBe(2);
    expect(hub.topics().sort()).toEqual(['a', 'b']);
  });

  it('unsubscribes once (twice is harmless), forgets empty topics, and the same function may subscribe twice', () => {
    const hub = new PubSub<string>();
    const got: string[] = [];
    const listener = (message: string): void => void got.push(message);
    const first = hub.subscribe('t', listener);
    const second = hub.subscribe('t', listener);
    hub.publish('t', 'x');
    first();
    first();
    hub.publish('t', 'y');
    second();
    expect(hub.publish('t', 'z')).toBe(0);
    expect(got).toEqual(['x', 'x', 'y']);
    expect(hub.topics()).toEqual([]);
    expect(hub.count()).toBe(0);
  });

  it('lets a listener unsubscribe itself while a message is delivered', () => {
    const hub = new PubSub<number>();
    const got: number[] = [];
    const stop = hub.subscribe('t', (n) => {
      got.push(n);
      stop();
    });
    hub.subscribe('t', (n) => got.push(n * 10));
    hub.publish('t', 1);
    hub.publish('t', 2);
    expect(got).toEqual([1, 10, 20]);
  });

  it('runs every listener when one throws: rethrows the first error, or hands errors to onError', () => {
    const boom = new Error('boom');
    const plain = new PubSub<number>();
    const got: number[] = [];
    plain.subscribe('t', () => {
      throw boom;
    });
    plain.subscribe('t', (n) => got.push(n));
    expect(() => plain.publish('t', 1)).toThrow(boom);
    expect(got).toEqual([1]);
    const errors: unknown[] = [];
    const handled = new PubSub<number>({ onError: (error, topic) => errors.push([error, topic]) });
    handled.subscribe('t', () => {
      throw boom;
    });
    expect(handled.publish('t', 1)).toBe(1);
    expect(errors).toEqual([[boom, 't']]);
  });

  it('refuses a listener that is not a function at once', () => {
    const hub = new PubSub<number>();
    expect(() => hub.subscribe('t', 42 as unknown as () => void)).toThrow(TypeError);
    expect(() => new PubSub({ onError: 'log' as unknown as () => void })).toThrow(TypeError);
  });
});
