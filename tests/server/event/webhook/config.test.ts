import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigReader } from '../../../../src/helper/config.js';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig } from '../../../../src/server/event/webhook/config.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER = `whsec_${randomBytes(32).toString('base64')}`;

function parse(section: Record<string, unknown>, env: Record<string, string> = {}) {
  const reader = new ConfigReader(section, { key: 'event', env });
  const config = parseWebhookConfig(reader);
  reader.assertNoUnknownKeys();
  return config;
}

describe('parseWebhookConfig', () => {
  it('gives the defaults for an empty section', () => {
    expect(parse({})).toEqual({ ...DEFAULT_WEBHOOK_CONFIG });
    expect(parse({}).webhook).toBeUndefined();
  });

  it('reads every key', () => {
    const config = parse({
      webhook: 'https://Hooks.example.com/fusion',
      api_key: { env: 'NOTIFIER_TOKEN' },
      timeout: 3,
      secrets: [SECRET, OTHER],
      webhook_allow: ['10.0.0.0/8', 'hooks.internal'],
      deadline: 3600,
      backoff_base: 1,
      backoff_max: 60,
      webhook_concurrency: 4,
      webhook_poll_interval: 0.5,
      webhook_retention: 86400,
      trusted_webhooks: ['https://Receiver.example.com/in'],
    }, { NOTIFIER_TOKEN: 'tok' });
    expect(config).toEqual({
      webhook: 'https://hooks.example.com/fusion',
      apiKey: 'tok',
      timeout: 3,
      secrets: [SECRET, OTHER],
      allow: ['10.0.0.0/8', 'hooks.internal'],
      deadline: 3600,
      backoffBase: 1,
      backoffMax: 60,
      concurrency: 4,
      pollInterval: 0.5,
      retention: 86400,
      trusted: ['https://receiver.example.com/in'],
    });
    expect(parse({ secret: SECRET }).secrets).toEqual([SECRET]);
  });

  it.each([
    [{ webhook: 'ftp://x/' }, /^event\.webhook: webhook URL "ftp:\/\/x\/" uses ftp:/],
    [{ webhook: 'http://192.168.1.10/hook' }, /^event\.webhook: .*192\.168\.1\.10 is a private address/],
    [{ secret: 'plain' }, /^event\.secret: expected a Standard Webhooks secret starting with whsec_/],
    [{ secret: 'whsec_AAAA' }, /^event\.secret: the key must hold at least 24 bytes/],
    [{ secrets: [SECRET, 'nope'] }, /^event\.secrets\[1\]: expected a Standard Webhooks secret/],
    [{ secrets: [SECRET, SECRET] }, /^event\.secrets: lists the same secret twice/],
    [{ secret: SECRET, secrets: [OTHER] }, /^event\.secrets: give either secret or secrets, not both/],
    [{ webhook_allow: ['http://x'] }, /^event\.webhook_allow\[0\]: expected a host name, an IP address or a CIDR/],
    [{ webhook_allow: '10.0.0.0/8' }, /^event\.webhook_allow: expected a list of strings/],
    [{ timeout: 0 }, /^event\.timeout: expected a number >= 0.001/],
    [{ timeout: 'soon' }, /^event\.timeout:/],
    [{ backoff_base: 10, backoff_max: 5 }, /^event\.backoff_max: must be >= backoff_base \(10\)/],
    [{ webhook_concurrency: 0 }, /^event\.webhook_concurrency:/],
    [{ api_key: '' }, /^event\.api_key:/],
    [{ trusted_webhooks: ['ftp://x/'] }, /^event\.trusted_webhooks\[0\]: webhook URL "ftp:\/\/x\/" uses ftp:/],
    [{ api_key: { env: 'MISSING' } }, /^event\.api_key: environment variable MISSING is not set/],
  ])('refuses %p', (section, message) => {
    expect(() => parse(section)).toThrow(message);
  });

  it('keeps secrets out of error messages', () => {
    expect(() => parse({ secret: 12345 })).toThrow(/event\.secret: expected a non-empty string, got a number \(hidden\)/);
  });

  it('lets an empty webhook mean none', () => {
    expect(parse({ webhook: '' }).webhook).toBeUndefined();
  });
});
