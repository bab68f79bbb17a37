/**
 * The SSRF guard's rule: which destination addresses a webhook may reach. Private, loopback,
 * link-local, unique-local, multicast, unspecified and other non-public ranges are refused,
 * also when embedded in an IPv6 address (IPv4-mapped, NAT64, 6to4), unless the address or the
 * host name is listed in `event.webhook_allow` (host names, IP addresses, CIDRs).
 */
import { BlockList, isIP } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/** Non-public ranges, each with the word used in refusals. */
const FORBIDDEN: readonly (readonly [cidr: string, kind: string])[] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared (carrier-grade NAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved (IPv4-compatible)'],
  ['100::/64', 'discard'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

function family(address: string): Family | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

/** Parses `a.b.c.d/n` or `x::y/n` (a bare address is a /32 or /128); null when malformed. */
export function parseCidr(text: string): { address: string; prefix: number; family: Family } | null {
  const [address = '', prefixText, extra] = text.split('/');
  const fam = family(address);
  if (fam === null || extra !== undefined) return null;
  const max = fam === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family: fam };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { address, prefix: Number(prefixText), family: fam };
}

const forbiddenLists = FORBIDDEN.map(([cidr, kind]) => {
  const parsed = parseCidr(cidr)!;
  const list = new BlockList();
  list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  return { list, family: parsed.family, kind };
});

/** The 16 bytes of an IPv6 address (zone id dropped), or null when it is not one. */
export function ipv6Bytes(address: string): Uint8Array | null {
  const plain = address.split('%')[0] ?? '';
  if (isIP(plain) !== 6) return null;
  let text = plain;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    text = text.slice(0, -dotted[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const groupsNeeded = 8 - tail.length / 2;
  const [head = '', rest] = text.split('::');
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = split(head);
  const right = rest === undefined ? [] : split(rest);
  const zeros = rest === undefined ? 0 : groupsNeeded - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  tail.forEach((value, i) => {
    bytes[16 - tail.length + i] = value;
  });
  return bytes;
}

/** The IPv4 address an IPv6 one carries (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16), if any. */
export function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (b === null) return null;
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  const v4 = (o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return v4(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b.subarray(4, 12).every((x) => x === 0)) return v4(12);
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}

/** Why `address` is not public ('loopback', 'private'...), or null when it is. */
export function nonPublicKind(address: string): string | null {
  const plain = address.split('%')[0] ?? '';
  const fam = family(plain);
  if (fam === null) return 'not an IP address';
  for (const range of forbiddenLists) {
    if (range.family === fam && range.list.check(plain, fam)) return range.kind;
  }
  const inner = fam === 'ipv6' ? embeddedIpv4(plain) : null;
  return inner === null ? null : nonPublicKind(inner);
}

/** A host name as compared: lowercase, no trailing dot, IPv6 brackets removed. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** One `webhook_allow` entry is a host name (`hooks.internal`, `*.corp.example`), an address or a CIDR. */
export function isAllowEntry(entry: string): boolean {
  if (parseCidr(entry) !== null) return true;
  return /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i.test(entry);
}

/** The destinations webhooks may reach, built from `event.webhook_allow`. */
export class AddressPolicy {
  readonly #allowed = new BlockList();
  readonly #hosts = new Set<string>();
  readonly #suffixes: string[] = [];

  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const cidr = parseCidr(entry);
      if (cidr !== null) {
        this.#allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
      } else if (isAllowEntry(entry)) {
        const host = normalizeHost(entry);
        if (host.startsWith('*.')) this.#suffixes.push(host.slice(1));
        else this.#hosts.add(host);
      } else {
        throw new TypeError(`webhook_allow: ${JSON.stringify(entry)} is neither a host name, an IP address nor a CIDR`);
      }
    }
  }

  /** True when `host` (a URL's hostname) is listed by name: any address it resolves to is allowed. */
  allowsHost(host: string): boolean {
    const name = normalizeHost(host);
    return this.#hosts.has(name) || this.#suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Null when `address` may be reached, else why not (e.g. `127.0.0.1 is a loopback address`). */
  refusal(address: string): string | null {
    const plain = address.split('%')[0] ?? '';
    const fam = family(plain);
    if (fam === null) return `${address} is not an IP address`;
    if (this.#allowed.check(plain, fam)) return null;
    const inner = fam === 'ipv6' ? embeddedIpv4(plain) : null;
    if (inner !== null && this.#allowed.check(inner, 'ipv4')) return null;
    const kind = nonPublicKind(plain);
    return kind === null ? null : `${plain} is a ${kind} address`;
  }
}
