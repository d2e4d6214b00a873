/**
 * The egress rules (SPEC §11): which addresses are not globally routable (IPv4-mapped forms
 * included), what an `egress.allow` entry is, and what it permits.
 */
import { describe, expect, it } from 'vitest';
import {
  egressAllows,
  egressEntries,
  isSpecialPurpose,
  parseEgressEntry,
} from '../../../src/domain/egress.js';
import { policyErrors } from '../../../src/policy/validate.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';

describe('special-purpose addresses', () => {
  it.each([
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:127.0.0.1',
  ])('refuses %s', (address) => {
    expect(isSpecialPurpose(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'lets %s through',
    (address) => {
      expect(isSpecialPurpose(address)).toBe(false);
    },
  );
});

describe('egress.allow', () => {
  it('parses host names, IP literals and host:port', () => {
    expect(parseEgressEntry('Hooks.Internal.')).toEqual({ host: 'hooks.internal', port: null });
    expect(parseEgressEntry('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseEgressEntry('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseEgressEntry('fd00::7')).toEqual({ host: 'fd00::7', port: null });
    for (const bad of ['', 'two words', 'host:0', 'host:70000', 'http://host', '[example.com]']) {
      expect(parseEgressEntry(bad)).toHaveProperty('error');
    }
  });

  it('permits a special address only when an entry names its host or address (and port)', () => {
    const entries = egressEntries(['localhost:8080', '10.0.0.5']);
    expect(egressAllows(entries, 'localhost', 8080, '127.0.0.1')).toBe(true);
    expect(egressAllows(entries, 'localhost', 8081, '127.0.0.1')).toBe(false);
    expect(egressAllows(entries, 'internal.example', 443, '10.0.0.5')).toBe(true);
    expect(egressAllows(entries, 'internal.example', 443, '::ffff:10.0.0.5')).toBe(true);
    expect(egressAllows(entries, 'evil.example', 80, '127.0.0.1')).toBe(false);
    expect(egressAllows([], 'example.com', 443, '93.184.216.34')).toBe(true);
  });

  it('is validated with the policy: a bad entry is named by its JSON pointer', () => {
    const policy = loadDefaultPolicy();
    expect(policyErrors({ ...policy, egress: { allow: ['localhost', '127.0.0.1:8080'] } })).toEqual(
      [],
    );
    expect(policyErrors({ ...policy, egress: { allow: ['ok.example', 'not a host'] } })).toEqual([
      { path: '/egress/allow/1', message: 'not a host name, an IP literal or host:port' },
    ]);
    expect(policyErrors({ ...policy, egress: { allow: 'localhost' } })).not.toEqual([]);
    expect(policyErrors({ ...policy, egress: { allow: [], deny: [] } })).not.toEqual([]);
  });
});
