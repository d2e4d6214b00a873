/**
 * The floors through the policy API (SPEC §9): a version that relaxes one is refused with 403
 * `policy_floor` and a T4 detection — the owner's too — and nothing changes; a version that keeps
 * every floor is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from '../helpers/server.js';

describe('policy floors', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let live: { version: number; hash: string; document: any };

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    live = (await owner('GET', '/v1/governance/policy')).json;
  });
  afterAll(async () => server?.dispose());

  const relaxations: [string, (document: any) => void, string][] = [
    [
      'un-rejects user_credentials',
      (d) => {
        d.rejectedClasses = d.rejectedClasses.filter((c: string) => c !== 'user_credentials');
      },
      '/rejectedClasses',
    ],
    [
      'gives model_checkpoint UPDATE and DELETE',
      (d) => {
        d.classes.model_checkpoint.operations = ['CREATE', 'READ', 'UPDATE', 'DELETE'];
      },
      '/classes/model_checkpoint/operations',
    ],
    [
      'sets metadata retention to none',
      (d) => {
        d.classes.metadata.retention = { mode: 'none', period: null };
      },
      '/classes/metadata/retention/mode',
    ],
    [
      'moves audit_entry from compliance to governance',
      (d) => {
        d.classes.audit_entry.retention.mode = 'governance';
      },
      '/classes/audit_entry/retention/mode',
    ],
    [
      'shortens monetization_marker to P1Y',
      (d) => {
        d.classes.monetization_marker.retention.period = 'P1Y';
      },
      '/classes/monetization_marker/retention/period',
    ],
    [
      'makes workflow_engine writable',
      (d) => {
        d.products.workflow_engine.readOnly = false;
      },
      '/products/workflow_engine/readOnly',
    ],
  ];

  it.each(relaxations)(
    'refuses a version that %s: 403 policy_floor, T4, nothing changed',
    async (_, edit, path) => {
      const document = structuredClone(live.document);
      edit(document);
      const answer = await owner('PUT', '/v1/governance/policy', {
        body: { document, reason: 'relax a floor' },
      });
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('policy_floor');
      expect(answer.json.error.details.floors).toContainEqual(expect.objectContaining({ path }));
      const after = (await owner('GET', '/v1/governance/policy')).json;
      expect(after.version).toBe(live.version);
      expect(after.hash).toBe(live.hash);
      // The refusal is in the audit log as the failure it is, with its T4 detection.
      const denials = (await owner('GET', '/v1/audit/entries?decision=deny&threat=T4')).json
        .entries;
      expect(denials.at(-1)?.entry).toMatchObject({
        operation: 'policy.update',
        allow: false,
        status: 403,
        reasons: [{ rule: 'policy_floor' }],
        threats: [expect.objectContaining({ id: 'T4' })],
      });
    },
  );

  it('records the detections in the threat catalogue', async () => {
    const catalogue = (await owner('GET', '/v1/governance/threats')).json;
    const t4 = catalogue.threats.find((t: { id: string }) => t.id === 'T4');
    expect(t4.detections).toBeGreaterThanOrEqual(relaxations.length);
  });

  it('accepts a version that keeps every floor (a longer, stricter retention)', async () => {
    const document = structuredClone(live.document);
    document.classes.user_progress.retention = { mode: 'compliance', period: 'P2Y' };
    const answer = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: 'keep progress longer' },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ version: live.version + 1, changed: true });
  });
});
