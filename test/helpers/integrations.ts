/**
 * What the integration and gate-endpoint suites (test/e2e/integrations*.test.ts,
 * gate-endpoints.test.ts) share: one in-process server per file with its owner client, and
 * integration proposals with unique ids.
 */
import { afterAll, beforeAll } from 'vitest';
import { client, COMPLIANT_SCHEMA, startTestServer, type TestServer } from './server.js';

export const VALIDATE = '/governance/gate/validate-integration';
export const CHECKS = [
  'threat_assessment',
  'scale_compatibility',
  'product_safety',
  'compliance_validation',
];
export const ids = (list: { id: string }[]) => list.map((item) => item.id).sort();
export const rules = (list: { rule: string }[]) => list.map((item) => item.rule).sort();

let counter = 0;
export const uniqueId = (label: string) => `${label}-${++counter}`;

/** A sound integration proposal (approved as it is); `fields` override its members. */
export const proposal = (fields: Record<string, unknown> = {}) => ({
  integrationId: uniqueId('int'),
  integrationType: 'sdk',
  productName: 'ai_avatar',
  artifactClasses: ['avatar_config', 'persona_config'],
  dataSchema: COMPLIANT_SCHEMA,
  ...fields,
});

export type Client = ReturnType<typeof client>;

/**
 * Starts one server before the file's tests (beforeAll where it is called), hands it and its
 * owner's client to `onStart`, and disposes of it after them.
 */
export function startOwnerServer(onStart: (server: TestServer, owner: Client) => void): void {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    onStart(server, client(server.url, server.ownerKey));
  });
  afterAll(async () => server?.dispose());
}
