import { describe, expect, it } from '@jest/globals';
import { AddressPolicy, embeddedIpv4, ipv6Bytes, isAllowEntry, nonPublicKind, parseCidr } from '../../../../src/server/event/webhook/address-policy.js';

describe('nonPublicKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:0101::1', 'private'],
    ['::127.0.0.1', 'reserved (IPv4-compatible)'],
  ])('%s is %s', (address, kind) => {
    expect(nonPublicKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:0808:0808::1'])('%s is public', (address) => {
    expect(nonPublicKind(address)).toBeNull();
  });
});

describe('IPv6 helpers', () => {
  it('expands addresses to 16 bytes', () => {
    expect(Buffer.from(ipv6Bytes('2001:db8::1')!).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(Buffer.from(ipv6Bytes('::ffff:1.2.3.4')!).toString('hex')).toBe('00000000000000000000ffff01020304');
    expect(Buffer.from(ipv6Bytes('1:2:3:4:5:6:7.8.9.10')!).toString('hex')).toBe('0001000200030004000500060708090a');
    expect(ipv6Bytes('10.0.0.1')).toBeNull();
  });

  it('finds embedded IPv4 addresses', () => {
    expect(embeddedIpv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(embeddedIpv4('64:ff9b::0a00:0001')).toBe('10.0.0.1');
    expect(embeddedIpv4('2002:7f00:0001::')).toBe('127.0.0.1');
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
  });
});

describe('parseCidr and isAllowEntry', () => {
  it('parses addresses and CIDRs, refuses the rest', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', '10.0.0.0/8/1', '10.0.0.0/x', 'host']) expect(parseCidr(bad)).toBeNull();
  });

  it('accepts host names, wildcards, addresses and CIDRs', () => {
    for (const good of ['hooks.internal', '*.corp.example', 'localhost', '10.0.0.0/8', 'fd00::/8']) expect(isAllowEntry(good)).toBe(true);
    for (const bad of ['http://x', 'a b', '*', 'x/8', '']) expect(isAllowEntry(bad)).toBe(false);
  });
});

describe('AddressPolicy', () => {
  it('refuses non-public addresses by default, with the reason', () => {
    const policy = new AddressPolicy();
    expect(policy.refusal('127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(policy.refusal('93.184.216.34')).toBeNull();
    expect(policy.refusal('not-an-ip')).toBe('not-an-ip is not an IP address');
    expect(policy.allowsHost('localhost')).toBe(false);
  });

  it('allows listed CIDRs (also through embedded IPv4) and host names', () => {
    const policy = new AddressPolicy(['10.0.0.0/8', '::1', 'hooks.internal', '*.corp.example']);
    expect(policy.refusal('10.9.9.9')).toBeNull();
    expect(policy.refusal('::ffff:10.9.9.9')).toBeNull();
    expect(policy.refusal('::1')).toBeNull();
    expect(policy.refusal('127.0.0.1')).toMatch(/loopback/);
    expect(policy.refusal('192.168.0.1')).toMatch(/private/);
    expect(policy.allowsHost('HOOKS.internal.')).toBe(true);
    expect(policy.allowsHost('a.b.corp.example')).toBe(true);
    expect(policy.allowsHost('corp.example')).toBe(false);
    expect(policy.allowsHost('evilcorp.example')).toBe(false);
  });

  it('refuses malformed entries', () => {
    expect(() => new AddressPolicy(['http://x'])).toThrow(/neither a host name/);
  });
});
