import { describe, expect, it } from '@jest/globals';
import { MAX_WEBHOOK_URL_LENGTH, validateWebhookUrl } from '../../../../src/server/event/webhook/webhook-url.js';

const none = { allow: [] as string[] };

describe('validateWebhookUrl', () => {
  it('returns the URL normalized, without fragment', () => {
    expect(validateWebhookUrl('HTTPS://Hooks.Example.com/a?b=1#x', none)).toBe('https://hooks.example.com/a?b=1');
    expect(validateWebhookUrl('http://example.com', none)).toBe('http://example.com/');
  });

  it.each([
    [42, /not a non-empty string/],
    ['', /not a non-empty string/],
    ['example.com/hook', /not an absolute URL/],
    ['ftp://example.com/hook', /uses ftp: \(only http: and https:/],
    ['file:///etc/passwd', /uses file:/],
    ['javascript:alert(1)', /uses javascript:/],
    ['https://user:pw@example.com/', /holds credentials/],
    ['https://user@example.com/', /holds credentials/],
    [`https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, /longer than 2048/],
  ])('refuses %p', (url, message) => {
    expect(() => validateWebhookUrl(url, none)).toThrow(expect.objectContaining({ code: 'FUSION_ERR_WEBHOOK_URL', message: expect.stringMatching(message) }));
  });

  it.each(['http://127.0.0.1/', 'http://10.0.0.1:8080/x', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/', 'http://0x7f.1/'])(
    'refuses the non-public IP literal %s',
    (url) => {
      expect(() => validateWebhookUrl(url, none)).toThrow(expect.objectContaining({ code: 'FUSION_ERR_WEBHOOK_REFUSED' }));
    },
  );

  it('accepts listed addresses, and leaves host names to delivery time', () => {
    expect(validateWebhookUrl('http://127.0.0.1:9/x', { allow: ['127.0.0.0/8'] })).toBe('http://127.0.0.1:9/x');
    expect(validateWebhookUrl('http://[::1]:9/x', { allow: ['::1'] })).toBe('http://[::1]:9/x');
    expect(validateWebhookUrl('http://localhost:9/x', none)).toBe('http://localhost:9/x');
  });
});
