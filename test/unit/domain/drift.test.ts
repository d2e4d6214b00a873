/**
 * Drift's pure parts (SPEC §9): digests that ignore how a definition is spaced but not what it
 * says, the status of a set of checks, and the baseline's Ed25519 signature over its canonical
 * bytes (any changed member fails it).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { baselineSignatureValid, signBaseline } from '../../../src/audit/baseline-signature.js';
import { createSigner } from '../../../src/audit/note.js';
import {
  driftStatus,
  routesDigest,
  schemaDigest,
  type BaselineDocument,
  type DriftCheck,
} from '../../../src/domain/drift.js';

const TABLE = { type: 'table', name: 'versions.versions', definition: 'CREATE TABLE versions (a)' };
const INDEX = {
  type: 'index',
  name: 'versions.v_a',
  definition: 'CREATE INDEX v_a ON versions (a)',
};

describe('drift digests', () => {
  it('ignores order and spacing, not content', () => {
    const base = schemaDigest([TABLE, INDEX]);
    expect(schemaDigest([INDEX, TABLE])).toBe(base);
    expect(schemaDigest([{ ...TABLE, definition: 'CREATE  TABLE versions\n  (a)' }, INDEX])).toBe(
      base,
    );
    expect(schemaDigest([TABLE])).not.toBe(base);
    expect(
      schemaDigest([{ ...TABLE, definition: 'CREATE TABLE versions (a, b)' }, INDEX]),
    ).not.toBe(base);
  });

  it('covers each route binding and its action rule', () => {
    const route = {
      method: 'GET',
      url: '/x',
      binding: 'action',
      action: 'x.read',
      rule: { kinds: ['owner'] },
    };
    const base = routesDigest([route]);
    expect(routesDigest([{ ...route, rule: { kinds: ['owner', 'product'] } }])).not.toBe(base);
    expect(routesDigest([{ ...route, binding: 'public', action: null }])).not.toBe(base);
  });
});

describe('drift status', () => {
  const same: DriftCheck = {
    component: 'routes',
    baseline: 'a',
    live: 'a',
    explained: true,
    explanation: null,
  };
  const changed: DriftCheck = {
    component: 'policy',
    baseline: 'a',
    live: 'b',
    explained: true,
    explanation: 'api',
  };

  it('is clean, explained or drifted', () => {
    expect(driftStatus([same], true)).toBe('clean');
    expect(driftStatus([same, changed], true)).toBe('explained');
    expect(driftStatus([same, { ...changed, explained: false }], true)).toBe('drifted');
    // A check found unexplained stays drift even when its digest came back to the baseline's.
    expect(driftStatus([{ ...same, explained: false }], true)).toBe('drifted');
    expect(driftStatus([same], false)).toBe('drifted');
  });
});

describe('baseline signature', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = createSigner('bucket-test', privateKey);
  const document: BaselineDocument = {
    sequence: 1,
    createdAt: '2026-12-04T22:00:00.000Z',
    reason: 'first start',
    schemaVersion: 15,
    codeVersion: '1.0.0',
    policyVersion: 1,
    components: {
      database_schema: 'a'.repeat(64),
      policy: 'b'.repeat(64),
      routes: 'c'.repeat(64),
      class_schemas: 'd'.repeat(64),
    },
  };

  it('verifies with the signing key, and fails for any changed member or another key', () => {
    const signed = signBaseline(document, signer);
    expect(baselineSignatureValid(signed, signer)).toBe(true);
    const edited = { ...signed, components: { ...signed.components, policy: 'e'.repeat(64) } };
    expect(baselineSignatureValid(edited, signer)).toBe(false);
    expect(baselineSignatureValid({ ...signed, sequence: 2 }, signer)).toBe(false);
    expect(baselineSignatureValid({ ...signed, signature: 'bm9wZQ==' }, signer)).toBe(false);
    const other = createSigner('bucket-test', generateKeyPairSync('ed25519').privateKey);
    expect(baselineSignatureValid(signed, other)).toBe(false);
  });
});
