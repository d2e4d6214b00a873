/**
 * Egress (SPEC §11, agents and webhooks): outgoing requests go over http(s) only, and never to an
 * address that is not globally routable (the RFC 6890 special-purpose ranges, IPv4-mapped forms
 * included) unless the policy's `egress.allow` names it — a host name or IP literal (any port) or
 * `host:port` (that port only). Pure: services/egress.ts applies it to the address it connects to.
 */
import { BlockList, isIP } from 'node:net';

/** RFC 6890 (and successors) ranges that are not globally reachable destinations. */
const SPECIAL_PURPOSE = new BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGN)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the limited broadcast
] as const) {
  SPECIAL_PURPOSE.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible forms
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  SPECIAL_PURPOSE.addSubnet(prefix, bits, 'ipv6');
}

/** `::ffff:a.b.c.d` (or its hex form) as `a.b.c.d`; other addresses as they are. */
function unmapped(address: string): string {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return address;
}

/** Whether `address` (an IP literal) is in a special-purpose range: refused unless allowed. */
export function isSpecialPurpose(address: string): boolean {
  const plain = unmapped(address);
  const family = isIP(plain);
  if (family === 0) return true; // not an address: never connect to it unchecked
  return SPECIAL_PURPOSE.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

export interface EgressEntry {
  /** A lower-case host name, or an IP literal without brackets. */
  readonly host: string;
  /** Null: any port. */
  readonly port: number | null;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A host as URLs and entries spell it: lower case, no brackets, no trailing dot. */
export function normalHost(host: string): string {
  const lower = host.toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/** An `egress.allow` entry, or why it is not one. */
export function parseEgressEntry(text: string): EgressEntry | { error: string } {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  let host: string;
  let portText: string | undefined;
  if (bracketed?.[1]) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (isIP(text) === 6) {
    host = text;
  } else if (/[[\]]/.test(text)) {
    return { error: 'brackets hold an IPv6 literal only' };
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  host = normalHost(host);
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    return { error: 'not a host name, an IP literal or host:port' };
  }
  if (bracketed?.[1] && isIP(host) !== 6) return { error: 'brackets hold an IPv6 literal only' };
  if (portText === undefined) return { host, port: null };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    return { error: 'the port must be 1–65535' };
  }
  return { host, port };
}

/** The valid entries of `egress.allow` (validation refuses a policy with an invalid one). */
export function egressEntries(allow: readonly string[]): EgressEntry[] {
  return allow.flatMap((text) => {
    const entry = parseEgressEntry(text);
    return 'error' in entry ? [] : [entry];
  });
}

/**
 * Whether a connection to `address` (resolved from `host`, on `port`) may be made: a globally
 * routable address always; a special-purpose one only when an entry names the host or the address
 * (and the port, when the entry has one).
 */
export function egressAllows(
  entries: readonly EgressEntry[],
  host: string,
  port: number,
  address: string,
): boolean {
  if (!isSpecialPurpose(address)) return true;
  const names = new Set([normalHost(host), unmapped(address).toLowerCase()]);
  return entries.some(
    (entry) => names.has(entry.host) && (entry.port === null || entry.port === port),
  );
}
