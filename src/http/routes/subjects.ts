/**
 * Data subjects (SPEC §8): `GET /v1/governance/subjects/{subject}/export`, the subject's access
 * export (GDPR Art. 15) as streamed NDJSON, for the owner and the auditor.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { SUBJECT_PATTERN } from '../../domain/subjects.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

export const subjectRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/subjects/:subject/export',
      {
        config: {
          action: 'subjects.export',
          // The export's entry names whose data was read (SPEC §8; a review note of 0031).
          entryOf: (request) => ({
            subjectExport: { subject: (request.params as { subject?: string }).subject ?? null },
          }),
        },
        schema: {
          tags: ['governance'],
          summary: "A data subject's access export (owner, auditor): NDJSON, streamed",
          description:
            'One line per version of the subject neither tombstoned nor purged ' +
            '(`product, class, name, version, sha256, size, contentType, createdAt, retention, ' +
            'auditIndex`, and for the owner `json` or `base64`), then ' +
            '`{"summary": {versions, bytes, products}}`. A stream without its summary line was ' +
            'cut short.',
          params: Type.Object({ subject: Type.String({ pattern: SUBJECT_PATTERN }) }),
          response: { ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const lines = bucket.artifacts.exportSubject(
          request.params.subject,
          requestInfo(request).principal,
        );
        reply.header('content-type', 'application/x-ndjson');
        return reply.send(Readable.from(lines));
      },
    );
  };
