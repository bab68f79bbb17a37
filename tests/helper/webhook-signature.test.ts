import { describe, expect, it } from '@jest/globals';
import { secretKey, secretProblem, signWebhook } from '../../src/helper/webhook-signature.js';

describe('signWebhook', () => {
  it('reproduces the Standard Webhooks reference vector', () => {
    const key = secretKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(signWebhook([key], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(signWebhook([key], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, Buffer.from('{"test": 2432232314}'))).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('gives one signature per key, space-separated', () => {
    const a = secretKey(`whsec_${Buffer.alloc(24, 1).toString('base64')}`);
    const b = secretKey(`whsec_${Buffer.alloc(32, 2).toString('base64')}`);
    const both = signWebhook([a, b], 'id', 1, '{}').split(' ');
    expect(both).toEqual([signWebhook([a], 'id', 1, '{}'), signWebhook([b], 'id', 1, '{}')]);
    expect(both[0]).not.toBe(both[1]);
  });
});

describe('secretProblem', () => {
  it('accepts whsec_ + base64 of at least 24 bytes', () => {
    expect(secretProblem(`whsec_${Buffer.alloc(24).toString('base64')}`)).toBeNull();
    expect(secretProblem(Buffer.alloc(24).toString('base64'))).toMatch(/starting with whsec_/);
    expect(secretProblem('whsec_not base64!')).toMatch(/base64/);
    expect(secretProblem(`whsec_${Buffer.alloc(16).toString('base64')}`)).toMatch(/at least 24 bytes/);
    expect(() => secretKey('whsec_x')).toThrow(TypeError);
  });
});
