/** The JSON Schema of the policy document (SPEC §2, pinned field names). */

const operation = { enum: ['CREATE', 'READ', 'UPDATE', 'DELETE'] };
const identifier = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' };
const byteCount = { type: 'integer', minimum: 0 };

export const policySchema = {
  $id: 'https://bhiv.dev/schemas/bucket-policy.json',
  type: 'object',
  additionalProperties: false,
  required: ['products', 'classes', 'rejectedClasses', 'limits'],
  properties: {
    products: {
      type: 'object',
      propertyNames: identifier,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: [
          'displayName',
          'allowedClasses',
          'forbiddenClasses',
          'quotaBytes',
          'maxArtifacts',
          'readOnly',
        ],
        properties: {
          displayName: { type: 'string', minLength: 1, maxLength: 200 },
          allowedClasses: { type: 'array', items: identifier, uniqueItems: true },
          forbiddenClasses: { type: 'array', items: identifier, uniqueItems: true },
          quotaBytes: byteCount,
          maxArtifacts: byteCount,
          readOnly: { type: 'boolean' },
          // Optional per-product shares of the global rates (SPEC §2.3); absent means no share.
          writesPerSecond: { type: 'integer', minimum: 1 },
          readsPerSecond: { type: 'integer', minimum: 1 },
        },
      },
    },
    classes: {
      type: 'object',
      propertyNames: identifier,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['content', 'operations', 'maxBytes', 'schema', 'retention'],
        properties: {
          content: {
            oneOf: [
              { enum: ['json', 'binary', 'system', 'virtual'] },
              {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { type: 'string', pattern: '^[a-z0-9.+-]+/[a-z0-9.+-]+$' },
              },
            ],
          },
          operations: { type: 'array', items: operation, uniqueItems: true },
          maxBytes: { anyOf: [byteCount, { type: 'null' }] },
          schema: { anyOf: [{ type: 'object' }, { type: 'null' }] },
          retention: {
            type: 'object',
            additionalProperties: false,
            required: ['mode', 'period'],
            properties: {
              mode: { enum: ['compliance', 'governance', 'none'] },
              period: {
                anyOf: [
                  { type: 'string', pattern: '^P(?=\\d)(\\d+Y)?(\\d+M)?(\\d+D)?$' },
                  { type: 'null' },
                ],
              },
              expire: { type: 'boolean' },
            },
          },
          piiFree: { type: 'boolean' },
          // Optional (SPEC §1, §8): auditor keys read this class's content (and DSAR lines carry
          // it); absent or false, auditors read metadata only.
          auditorContent: { type: 'boolean' },
        },
      },
    },
    rejectedClasses: { type: 'array', items: identifier, uniqueItems: true },
    // Optional (SPEC §5 escalation); absent means 3 CRITICAL requests within 3600 s.
    escalation: {
      type: 'object',
      additionalProperties: false,
      required: ['criticalRequests', 'windowSeconds'],
      properties: {
        criticalRequests: { type: 'integer', minimum: 1 },
        windowSeconds: { type: 'integer', minimum: 1 },
      },
    },
    // Optional (SPEC §11): host names, IP literals or host:port that egress may reach though
    // they are loopback, private or link-local; each entry is checked in validate.ts.
    egress: {
      type: 'object',
      additionalProperties: false,
      required: ['allow'],
      properties: {
        allow: {
          type: 'array',
          maxItems: 1000,
          uniqueItems: true,
          items: { type: 'string', minLength: 1, maxLength: 262 },
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: [
        'maxArtifactBytes',
        'writesPerSecond',
        'readsPerSecond',
        'concurrentWrites',
        'maxBatch',
        'maxArtifacts',
        'storageCapacityBytes',
        'listPageMax',
      ],
      properties: {
        maxArtifactBytes: { type: 'integer', minimum: 1 },
        writesPerSecond: { type: 'integer', minimum: 1 },
        readsPerSecond: { type: 'integer', minimum: 1 },
        concurrentWrites: { type: 'integer', minimum: 1 },
        maxBatch: { type: 'integer', minimum: 1 },
        maxArtifacts: { type: 'integer', minimum: 1 },
        storageCapacityBytes: { type: 'integer', minimum: 1 },
        listPageMax: { type: 'integer', minimum: 1, maximum: 10000 },
        // Optional (SPEC §2.3); absent: the defaults of domain/policy.ts.
        productWriteShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        minUploadBytesPerSecond: { type: 'integer', minimum: 0 },
        maxEventLoopDelayMs: { type: 'integer', minimum: 1 },
        // Optional (SPEC §11); absent: 8 and 1,000 (src/core/runs.ts).
        concurrentRuns: { type: 'integer', minimum: 1, maximum: 1000 },
        queuedRuns: { type: 'integer', minimum: 0, maximum: 1000000 },
      },
    },
  },
} as const;
