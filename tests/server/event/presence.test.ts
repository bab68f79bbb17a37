import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { Presence } from '../../../src/server/event/presence.js';
import { describeStorage } from '../../helpers/storage.js';

describeStorage('Presence (fusion_event_presence)', (getStorage) => {
  it('says "first" for a user\'s first stream on any instance and "last" for the last one', async () => {
    const storage = getStorage();
    const here = new Presence(storage, 60);
    const there = new Presence(storage, 60);
    const c = randomUUID();
    expect(await here.join(c, 'alice')).toBe(true);
    expect(await here.join(c, 'alice')).toBe(false); // second stream, same instance
    expect(await there.join(c, 'alice')).toBe(false); // present on another instance already
    expect(await there.join(c, 'bob')).toBe(true);
    expect(await here.subscribers(c)).toEqual(['alice', 'bob']);
    expect(await here.leave(c, 'alice')).toBe(false);
    expect(await here.leave(c, 'alice')).toBe(false); // still on `there`
    expect(await there.leave(c, 'alice')).toBe(true);
    expect(await there.leave(c, 'alice')).toBe(false); // no stream left to count
    expect(await there.subscribers(c)).toEqual(['bob']);
    await there.clear();
    expect(await here.subscribers(c)).toEqual([]);
  });

  it('runs the announcements of one user in order, even when a leave follows a join at once', async () => {
    const storage = getStorage();
    const presence = new Presence(storage, 60);
    const c = randomUUID();
    const said: string[] = [];
    const slow = (what: string) => async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      said.push(what);
    };
    const results = await Promise.all([presence.join(c, 'zoe', slow('subscribe')), presence.leave(c, 'zoe', slow('unsubscribe'))]);
    expect(results).toEqual([true, true]);
    expect(said).toEqual(['subscribe', 'unsubscribe']);
    expect(await presence.subscribers(c)).toEqual([]);
  });

  it('keeps rows alive with heartbeats; expired rows disappear with a departure for users present nowhere else', async () => {
    const storage = getStorage();
    const live = new Presence(storage, 60);
    const crashed = new Presence(storage, 0.05);
    const c = randomUUID();
    await crashed.join(c, 'carol');
    await crashed.join(c, 'dave');
    await live.join(c, 'dave');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await live.subscribers(c)).toEqual(['dave']);
    const departures = (await live.expire()).filter((d) => d.caseGuid === c);
    expect(departures).toEqual([{ caseGuid: c, username: 'carol' }]);
    await storage.knex('fusion_event_presence').where({ case_guid: c }).delete(); // rows lost (say, a database restore)
    await live.heartbeat(); // a live instance recreates its own
    expect(await crashed.subscribers(c)).toEqual(['dave']);
    await crashed.clear();
    await live.clear();
  });

  it('with a grace, delays the last leave; a new stream meanwhile cancels it; flush runs what waits', async () => {
    const storage = getStorage();
    const presence = new Presence(storage, 60, { grace: 600 });
    const c = randomUUID();
    const said: string[] = [];
    const say = (what: string) => async () => void said.push(what);
    expect(await presence.join(c, 'zoe', say('subscribe'))).toBe(true);
    expect(await presence.leave(c, 'zoe', say('unsubscribe'))).toBe(false); // waits
    expect(presence.pendingLeaves).toBe(1);
    expect(await presence.subscribers(c)).toEqual(['zoe']);
    expect(await presence.join(c, 'zoe', say('subscribe'))).toBe(false); // back in time: nothing said
    expect(presence.pendingLeaves).toBe(0);
    expect(await presence.leave(c, 'zoe', say('unsubscribe'))).toBe(false);
    await presence.heartbeat(); // keeps the waiting row alive
    await presence.flush();
    expect(said).toEqual(['subscribe', 'unsubscribe']);
    expect(presence.pendingLeaves).toBe(0);
    expect(await presence.subscribers(c)).toEqual([]);
    await presence.clear();
  });
});
