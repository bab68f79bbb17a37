import { describe, expect, it } from '@jest/globals';
import { fromIso, parseIso, toIso, truncateToSeconds, utcNow } from '../../src/helper/datetime.js';

describe('datetime', () => {
  it('emits UTC with seconds precision and a +00:00 offset', () => {
    expect(toIso(new Date(Date.UTC(2024, 10, 2, 9, 30, 0, 789)))).toBe('2024-11-02T09:30:00+00:00');
  });

  it('accepts Z, numeric offsets, fractions and a space separator', () => {
    const expected = Date.UTC(2024, 10, 2, 9, 30, 0);
    for (const text of [
      '2024-11-02T09:30:00Z',
      '2024-11-02T09:30:00+00:00',
      '2024-11-02T11:30:00+02:00',
      '2024-11-02T07:00:00-0230',
      '2024-11-02T09:30:00.123456+00:00',
      '2024-11-02 09:30:00+00',
      '2024-11-02T09:30Z',
    ]) {
      expect([text, parseIso(text)?.getTime()]).toEqual([text, expected]);
    }
  });

  it('keeps years below 100 as written', () => {
    expect(parseIso('0050-01-01T00:00:00+01:00')?.toISOString()).toBe('0049-12-31T23:00:00.000Z');
  });

  it('refuses naive datetimes, impossible dates and garbage', () => {
    for (const text of ['2024-11-02T09:30:00', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-11-02T24:00:00Z', 'yesterday', '']) {
      expect([text, parseIso(text)]).toEqual([text, null]);
    }
    expect(() => fromIso('2024-11-02')).toThrow('expected ISO-8601 datetime with offset, got "2024-11-02"');
  });

  it('round-trips through toIso/fromIso and truncates to seconds', () => {
    const now = utcNow();
    expect(now.getMilliseconds()).toBe(0);
    expect(fromIso(toIso(now)).getTime()).toBe(now.getTime());
    expect(truncateToSeconds(new Date(1999)).getTime()).toBe(1000);
    expect(() => toIso(new Date(Number.NaN))).toThrow('toIso expects a valid Date');
  });
});
