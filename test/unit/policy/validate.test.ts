import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PolicyDocument } from '../../../src/domain/policy.js';
import {
  DEFAULT_POLICY_URL,
  InvalidPolicyError,
  loadDefaultPolicy,
  parsePolicyYaml,
} from '../../../src/policy/load.js';
import { policyHash } from '../../../src/domain/canonical.js';
import { policyErrors } from '../../../src/policy/validate.js';

/** A deep, mutable copy of the shipped default policy. */
function defaultDocument(): any {
  return structuredClone(parse(readFileSync(DEFAULT_POLICY_URL, 'utf8')));
}

const paths = (candidate: unknown) => policyErrors(candidate).map((e) => e.path);

describe('the shipped default policy', () => {
  it('is valid', () => {
    expect(policyErrors(defaultDocument())).toEqual([]);
    expect(() => loadDefaultPolicy()).not.toThrow();
  });

  it('encodes the SPEC §2.3 default limits', () => {
    expect(loadDefaultPolicy().limits).toEqual({
      maxArtifactBytes: 524_288_000,
      writesPerSecond: 1000,
      readsPerSecond: 10_000,
      concurrentWrites: 100,
      maxBatch: 500,
      maxArtifacts: 100_000_000,
      storageCapacityBytes: 1_000_000_000_000,
      listPageMax: 1000,
      productWriteShare: 0.5,
      minUploadBytesPerSecond: 1024,
      maxEventLoopDelayMs: 200,
      concurrentRuns: 8,
      queuedRuns: 1000,
    });
  });

  it('encodes the SPEC §2.2 class sizes', () => {
    const classes = loadDefaultPolicy().classes;
    const KiB = 1024;
    const MiB = 1024 * KiB;
    expect(
      Object.fromEntries(Object.entries(classes).map(([id, rule]) => [id, rule.maxBytes])),
    ).toEqual({
      metadata: 16 * KiB,
      artifact_manifest: MiB,
      audit_entry: 100 * KiB,
      avatar_config: MiB,
      model_checkpoint: 524_288_000,
      iteration_history: 10 * MiB,
      persona_config: MiB,
      educational_content: 100 * MiB,
      user_progress: MiB,
      monetization_marker: 16 * KiB,
      event_history: MiB,
      audit_log: null,
      agent_spec: MiB,
      basket_config: MiB,
      execution_record: 10 * KiB,
      agent_output: 10 * MiB,
    });
  });

  it('hashes the same document to the same hash regardless of key order', () => {
    const document = loadDefaultPolicy();
    const reordered = Object.fromEntries(Object.entries(document).reverse()) as PolicyDocument;
    expect(policyHash(reordered)).toBe(policyHash(document));
    expect(policyHash(document)).toMatch(/^[0-9a-f]{64}$/);
    const changed = structuredClone(document) as any;
    changed.limits.listPageMax = 999;
    expect(policyHash(changed)).not.toBe(policyHash(document));
  });
});

describe('policyErrors on broken documents', () => {
  it('names the JSON pointer of a wrongly typed or out-of-range value', () => {
    const doc = defaultDocument();
    doc.products.gurukul.quotaBytes = -1;
    doc.limits.listPageMax = 'many';
    doc.classes.metadata.operations = ['CREATE', 'WRITE'];
    expect(paths(doc)).toEqual(
      expect.arrayContaining([
        '/products/gurukul/quotaBytes',
        '/limits/listPageMax',
        '/classes/metadata/operations/1',
      ]),
    );
  });

  it('reports every error, not just the first', () => {
    const doc = defaultDocument();
    doc.products.gurukul.readOnly = 'no';
    doc.products.core.displayName = '';
    doc.limits.concurrentWrites = 0;
    expect(policyErrors(doc).length).toBeGreaterThanOrEqual(3);
  });

  it('names a missing section and an unknown field', () => {
    const doc = defaultDocument();
    delete doc.limits;
    doc.classes.metadata.colour = 'blue';
    const errors = policyErrors(doc);
    expect(errors.some((e) => `${e.path} ${e.message}`.includes('limits'))).toBe(true);
    expect(errors).toContainEqual({
      path: '/classes/metadata/colour',
      message: 'unknown field "colour"',
    });
  });

  it('refuses a retention period that is not an ISO-8601 date duration', () => {
    const doc = defaultDocument();
    doc.classes.metadata.retention.period = '1 year';
    expect(paths(doc)).toContain('/classes/metadata/retention/period');
  });

  it('refuses a product admitting a class that does not exist', () => {
    const doc = defaultDocument();
    doc.products.gurukul.allowedClasses.push('no_such_class');
    const index = doc.products.gurukul.allowedClasses.length - 1;
    expect(policyErrors(doc)).toEqual([
      {
        path: `/products/gurukul/allowedClasses/${index}`,
        message: 'unknown class "no_such_class"',
      },
    ]);
  });

  it('refuses a product admitting a class named like an Object.prototype member', () => {
    const doc = defaultDocument();
    doc.products.gurukul.allowedClasses.push('constructor');
    const index = doc.products.gurukul.allowedClasses.length - 1;
    expect(policyErrors(doc)).toContainEqual({
      path: `/products/gurukul/allowedClasses/${index}`,
      message: 'unknown class "constructor"',
    });
  });

  it('refuses a product admitting a class rejected everywhere or forbidden to it', () => {
    const doc = defaultDocument();
    doc.classes.payment_info = structuredClone(doc.classes.metadata);
    doc.products.ai_assistant.allowedClasses = ['metadata', 'payment_info'];
    doc.products.ai_assistant.forbiddenClasses = ['metadata'];
    const errors = policyErrors(doc);
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        '/products/ai_assistant/allowedClasses/0',
        '/products/ai_assistant/allowedClasses/1',
      ]),
    );
    expect(errors.some((e) => /rejected everywhere/.test(e.message))).toBe(true);
    expect(errors.some((e) => /forbidden/.test(e.message))).toBe(true);
  });

  it('refuses a class maximum above the global maximum', () => {
    const doc = defaultDocument();
    doc.classes.model_checkpoint.maxBytes = doc.limits.maxArtifactBytes + 1;
    expect(paths(doc)).toEqual(['/classes/model_checkpoint/maxBytes']);
  });

  it('refuses a class schema that is not a valid JSON Schema', () => {
    const doc = defaultDocument();
    doc.classes.agent_spec.schema = { type: 'no-such-type' };
    expect(paths(doc)).toEqual(['/classes/agent_spec/schema']);
  });

  it('refuses a class schema that refers to itself without end, or nests past the bounds', () => {
    const loopsBelow = [
      // Reached only through a member: no probe value has it, every write holding it would overflow.
      {
        type: 'object',
        properties: { x: { $ref: '#/$defs/l' } },
        $defs: { l: { $ref: '#/$defs/l' } },
      },
      { $defs: { a: { allOf: [{ $ref: '#/$defs/b' }] }, b: { anyOf: [{ $ref: '#/$defs/a' }] } } },
      { items: { if: { $ref: '#/items' } } },
    ];
    for (const schema of [{ $ref: '#' }, { not: { $ref: '#' } }, ...loopsBelow]) {
      const doc = defaultDocument();
      doc.classes.agent_spec.schema = schema;
      expect(policyErrors(doc), JSON.stringify(schema)).toEqual([
        { path: '/classes/agent_spec/schema', message: expect.stringMatching(/refers to itself/) },
      ]);
    }
    let deep: unknown = {};
    for (let level = 0; level < 100; level++) deep = { type: 'object', properties: { a: deep } };
    const doc = defaultDocument();
    doc.classes.agent_spec.schema = deep;
    expect(policyErrors(doc)).toEqual([
      { path: '/classes/agent_spec/schema', message: expect.stringMatching(/nested deeper/) },
    ]);
    // A schema that recurses into the data is fine, a tree of nodes too.
    doc.classes.agent_spec.schema = { type: 'object', properties: { child: { $ref: '#' } } };
    expect(policyErrors(doc)).toEqual([]);
    doc.classes.agent_spec.schema = {
      $ref: '#/$defs/node',
      $defs: {
        node: {
          type: 'object',
          properties: { children: { type: 'array', items: { $ref: '#/$defs/node' } } },
          allOf: [{ required: ['children'] }],
        },
      },
    };
    expect(policyErrors(doc)).toEqual([]);
  });

  it('refuses a document that is not an object at all', () => {
    for (const candidate of [null, [], 'policy', 42]) {
      expect(policyErrors(candidate).length, JSON.stringify(candidate)).toBeGreaterThan(0);
    }
  });

  it('makes parsePolicyYaml throw an error carrying the paths', () => {
    const doc = defaultDocument();
    doc.limits.maxBatch = 0;
    const yaml = JSON.stringify(doc);
    try {
      parsePolicyYaml(yaml, 'broken.yaml');
      expect.unreachable('an invalid policy was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPolicyError);
      expect((error as InvalidPolicyError).errors.map((e) => e.path)).toEqual(['/limits/maxBatch']);
      expect((error as Error).message).toContain('broken.yaml');
    }
  });
});
