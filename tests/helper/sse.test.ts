import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SseParser, formatSseComment, formatSseMessage } from '../../src/helper/sse.js';

describe('formatSseMessage / formatSseComment', () => {
  it('writes id, event and one data line per line of data, then a blank line', () => {
    expect(formatSseMessage({ id: '42', data: '{"a":1}' })).toBe('id: 42\ndata: {"a":1}\n\n');
    expect(formatSseMessage({ event: 'note', data: 'one\ntwo', retry: 1000 })).toBe('retry: 1000\nevent: note\ndata: one\ndata: two\n\n');
    expect(formatSseComment('ping')).toBe(': ping\n\n');
  });

  it('refuses ids and event names that would break the framing', () => {
    expect(() => formatSseMessage({ id: '1\n2', data: '' })).toThrow(RangeError);
    expect(() => formatSseMessage({ event: 'a\rb', data: '' })).toThrow(RangeError);
    expect(() => formatSseMessage({ data: '', retry: -1 })).toThrow(RangeError);
  });
});

describe('SseParser', () => {
  it('reads messages, ids, event names, comments and retry as the spec says', () => {
    const parser = new SseParser();
    const messages = parser.push(': hello\n\nretry: 3000\nid: 7\nevent: note\ndata: a\ndata:b\n\ndata: c\n\nid: 9\n\n');
    expect(messages).toEqual([
      { event: 'note', data: 'a\nb', lastEventId: '7', hasId: true },
      { event: 'message', data: 'c', lastEventId: '7', hasId: false },
    ]);
    expect(parser.retry).toBe(3000);
    expect(parser.lastEventId).toBe('9'); // an id without data moves the id without a message
  });

  it('handles CRLF, CR and a leading BOM, and ignores ids holding NUL and unknown fields', () => {
    const parser = new SseParser('5');
    expect(parser.push('\uFEFFdata: x\r\n\r\nid: 1\0\rdata: y\r\rfoo: bar\ndata\n\n')).toEqual([
      { event: 'message', data: 'x', lastEventId: '5', hasId: false },
      { event: 'message', data: 'y', lastEventId: '5', hasId: false },
      { event: 'message', data: '', lastEventId: '5', hasId: false },
    ]);
  });

  it('gives the same messages however the stream is chunked (a CRLF split between chunks included)', () => {
    const text = formatSseMessage({ id: '1', data: 'héllo' }) + 'data: two\r\n\r\n' + formatSseMessage({ id: '3', event: 'e', data: 'x\ny' });
    const whole = new SseParser().push(text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const got = [];
        let start = 0;
        for (const point of [...points, text.length]) {
          got.push(...parser.push(text.slice(start, point)));
          start = point;
        }
        expect(got).toEqual(whole);
      }),
    );
    expect(whole.map((m) => m.data)).toEqual(['héllo', 'two', 'x\ny']);
  });
});
