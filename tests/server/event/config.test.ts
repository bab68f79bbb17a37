import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/helper/config.js';
import { EVENT_DEFAULTS, readEventConfig } from '../../../src/server/event/config.js';
import { parseConfig } from '../../../src/server/config.js';
import { apisFromSections as builtinApis } from '../../../src/server/builtin-sections.js';

function problem(raw: unknown): string {
  try {
    readEventConfig(raw, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the event section', () => {
  it('has defaults for an empty section, and reads every key in seconds', () => {
    expect(readEventConfig(null, { env: {} })).toMatchObject({ ...EVENT_DEFAULTS, source: undefined });
    const config = readEventConfig(
      { source: 'timeline', retention: 3600, prune_interval: 60, keepalive: 5, max_buffered_events: 10, presence_ttl: 30, presence_grace: 0, max_streams_per_identity: 4 },
      { env: {} },
    );
    expect(config).toMatchObject({ source: 'timeline', retention: 3600, pruneInterval: 60, keepalive: 5, maxBufferedEvents: 10, presenceTtl: 30, presenceGrace: 0, maxStreamsPerIdentity: 4 });
    expect(EVENT_DEFAULTS).toMatchObject({ presenceGrace: 3, maxStreamsPerIdentity: 16 });
  });

  it('reads the webhook keys of the same section (edf_fusion webhook, api_key, timeout)', () => {
    const config = readEventConfig({ webhook: 'https://hooks.example.com/fusion', api_key: { env: 'KEY' }, timeout: 3 }, { env: { KEY: 'k' } });
    expect(config.webhook).toMatchObject({ webhook: 'https://hooks.example.com/fusion', apiKey: 'k', timeout: 3 });
  });

  it('names the bad key', () => {
    expect(problem({ retention: 0 })).toMatch(/^event\.retention: expected a number of seconds > 0/);
    expect(problem({ keepalive: 'often' })).toMatch(/^event\.keepalive: /);
    expect(problem({ max_buffered_events: 1.5 })).toMatch(/^event\.max_buffered_events: /);
    expect(problem({ retension: 10 })).toBe('event.retension: unknown key, did you mean `retention`?');
    expect(problem({ source: '' })).toMatch(/^event\.source: /);
    expect(problem({ max_streams_per_identity: -1 })).toMatch(/^event\.max_streams_per_identity: /);
    expect(problem({ presence_grace: -1 })).toMatch(/^event\.presence_grace: /);
  });

  it('mounts the event API when the config has an event section', async () => {
    const base = { server: {}, storage: { url: 'memory://' } };
    const withEvents = await builtinApis(parseConfig({ ...base, event: null }));
    expect(withEvents.map((api) => api.name)).toEqual(['event']);
    expect((await builtinApis(parseConfig(base))).map((api) => api.name)).toEqual([]);
  });
});
