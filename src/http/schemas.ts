/** Shared TypeBox schemas: they validate, serialize and document (OpenAPI) the routes. */
import { Type } from 'typebox';

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable snake_case error code' }),
      message: Type.String(),
      requestId: Type.String(),
      decision: Type.Optional(Type.Any({ description: 'The gate decision record (SPEC §4.3)' })),
      details: Type.Optional(Type.Any()),
    }),
  },
  { $id: 'ErrorEnvelope', description: 'Every error answer' },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('ErrorEnvelope')]));

export const Retention = Type.Object({
  mode: Type.Union([Type.Literal('compliance'), Type.Literal('governance'), Type.Literal('none')]),
  until: Type.Union([Type.String(), Type.Null()]),
});

export const WriteAnswer = Type.Object({
  product: Type.String(),
  class: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  createdAt: Type.String(),
  createdBy: Type.String(),
  retention: Retention,
  audit: Type.Object(
    {
      leafIndex: Type.Integer({ description: 'The index of the write’s entry in the audit log' }),
      leafHash: Type.String({ description: 'RFC 6962 leaf hash of that entry (hex)' }),
    },
    { description: 'The receipt: where the decision that allowed this write sits (SPEC §6)' },
  ),
});

/** SPEC §8: what `…/versions` shows of a version whose content was purged. */
export const PurgeRecord = Type.Object(
  {
    at: Type.String(),
    reason: Type.String({
      description: 'superseded, tombstone_expired, retention_expired, erasure',
    }),
    auditIndex: Type.Integer({ description: 'The audit entry of the purge' }),
  },
  { description: 'Present when the content is gone (reads answer 410 content_purged)' },
);

export const ListItem = Type.Object({
  class: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  size: Type.Integer(),
  updatedAt: Type.String(),
  purged: Type.Optional(PurgeRecord),
});

/** What every answer about a key says of it (never its secret, but in the answer creating it). */
export const KEY_FIELDS = {
  id: Type.String(),
  kind: Type.String(),
  product: Type.Union([Type.String(), Type.Null()]),
  integrationId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
};

export const KeyView = Type.Object({
  ...KEY_FIELDS,
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([
    Type.Literal('active'),
    Type.Literal('suspended'),
    Type.Literal('revoked'),
    Type.Literal('expired'),
  ]),
});

export const ReasonView = Type.Object({ rule: Type.String(), message: Type.String() });

export const ThreatView = Type.Object({
  id: Type.String({ description: 'T1 … T7' }),
  name: Type.String(),
  severity: Type.String(),
  evidence: Type.String(),
});
