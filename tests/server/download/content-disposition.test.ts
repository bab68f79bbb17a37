import { describe, expect, it } from '@jest/globals';
import { contentDisposition, sanitizeFilename } from '../../../src/server/download/content-disposition.js';
import { filenameFromDisposition } from '../../../src/client/api/download.js';

describe('sanitizeFilename', () => {
  it('replaces control characters, quotes, backslashes and slashes; trims spaces and dots', () => {
    expect(sanitizeFilename('a"b\\c/d\r\ne\u0000f\u007f.txt')).toBe('a_b_c_d__e_f_.txt');
    expect(sanitizeFilename('  ..hidden.. ')).toBe('hidden');
    expect(sanitizeFilename('../../etc/passwd')).toBe('_.._etc_passwd');
  });

  it('falls back to "download" when nothing is left', () => {
    for (const name of ['', '   ', '..', '.']) expect(sanitizeFilename(name)).toBe('download');
  });
});

describe('contentDisposition', () => {
  it('writes a plain ASCII name in quotes only', () => {
    expect(contentDisposition('report-2024 (v2).pdf')).toBe('attachment; filename="report-2024 (v2).pdf"');
  });

  it('adds filename* (RFC 8187) for non-ASCII names, with an ASCII fallback', () => {
    expect(contentDisposition('été ✓.txt')).toBe(`attachment; filename="_t_ _.txt"; filename*=UTF-8''%C3%A9t%C3%A9%20%E2%9C%93.txt`);
    expect(contentDisposition("l'été*(1).txt")).toBe(`attachment; filename="l'_t_*(1).txt"; filename*=UTF-8''l%27%C3%A9t%C3%A9%2A%281%29.txt`);
  });

  it('never lets a name break out of the header', () => {
    const header = contentDisposition('x"; filename=evil.exe\r\nSet-Cookie: a=b');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe('attachment; filename="x_; filename=evil.exe__Set-Cookie: a=b"');
  });

  it('round-trips through the client parser', () => {
    for (const name of ['plain.txt', 'été ✓.txt', 'a;b=c.txt', '日本語のファイル.zip', "it's (1).bin"]) {
      expect(filenameFromDisposition(contentDisposition(name))).toBe(name);
    }
  });
});
