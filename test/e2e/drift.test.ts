/**
 * Drift (SPEC §9), on either backend: the signed baseline recorded at first start; a policy change
 * through the API is explained; a table altered, an index or a trigger added and a policy row
 * edited by hand are drift — an incident, and the Bucket read_only — found on a read of
 * `GET /v1/governance/drift` or by the periodic check; an upgrade records a new, audited baseline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { liveSql, onPostgres } from '../helpers/live-sql.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

interface DriftAnswer {
  status: string;
  baseline: { sequence: number; reason: string; signatureValid: boolean; signature: string };
  checks: { component: string; baseline: string; live: string; explained: boolean }[];
}

let server: InProcessTestServer | null = null;
afterEach(async () => {
  await server?.dispose();
  server = null;
});

async function drift(on: InProcessTestServer): Promise<DriftAnswer> {
  const answer = await client(on.url, on.ownerKey)('GET', '/v1/governance/drift');
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json as DriftAnswer;
}

function check(answer: DriftAnswer, component: string) {
  const found = answer.checks.find((c) => c.component === component);
  if (!found) throw new Error(`no ${component} check`);
  return found;
}

/** The open drift incident once there is one, and the mode then. */
async function driftIncident(on: InProcessTestServer) {
  const owner = client(on.url, on.ownerKey);
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = (await owner('GET', '/v1/governance/incidents?status=open')).json.incidents as {
      id: string;
      kind: string;
      evidence: { components: { component: string }[] };
    }[];
    const found = open.find((incident) => incident.kind === 'drift');
    if (found) return { incident: found, mode: (await owner('GET', '/v1/governance/mode')).json };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no drift incident');
}

async function expectDrifted(on: InProcessTestServer, component: string): Promise<void> {
  const answer = await drift(on);
  expect(answer.status).toBe('drifted');
  expect(check(answer, component).explained).toBe(false);
  const { incident, mode } = await driftIncident(on);
  expect(incident.evidence.components.map((c) => c.component)).toContain(component);
  expect(mode).toMatchObject({ mode: 'read_only', incidentId: incident.id });
  const key = (await createKey(on, { kind: 'product', product: 'ai_avatar' })).key;
  const write = await client(on.url, key)('PUT', '/v1/artifacts/ai_avatar/avatar_config/d.json', {
    body: { look: 'calm' },
  });
  expect(write.json.error.code).toBe('bucket_read_only');
}

describe('drift', () => {
  it('is clean after first start, explained after a policy change through the API', async () => {
    server = await startTestServer();
    const first = await drift(server);
    expect(first.status).toBe('clean');
    expect(first.baseline).toMatchObject({
      sequence: 1,
      reason: 'first start',
      signatureValid: true,
    });
    expect(first.checks.map((c) => c.component)).toEqual([
      'database_schema',
      'policy',
      'routes',
      'class_schemas',
    ]);
    for (const c of first.checks) expect(c.live, c.component).toBe(c.baseline);
    const auditor = (await createKey(server, { kind: 'auditor' })).key;
    expect((await client(server.url, auditor)('GET', '/v1/governance/drift')).status).toBe(200);
    const product = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    expect((await client(server.url, product)('GET', '/v1/governance/drift')).status).toBe(403);

    const owner = client(server.url, server.ownerKey);
    const live = (await owner('GET', '/v1/governance/policy')).json.document;
    live.limits.listPageMax = 999;
    const put = await owner('PUT', '/v1/governance/policy', {
      body: { document: live, reason: 'smaller pages' },
    });
    expect(put.status).toBe(200);
    const after = await drift(server);
    expect(after.status).toBe('explained');
    expect(check(after, 'policy')).toMatchObject({ explained: true });
    expect(JSON.stringify(check(after, 'policy'))).toContain('through the API');
    expect((await owner('GET', '/v1/governance/incidents?status=open')).json.incidents).toEqual([]);
    expect((await owner('GET', '/v1/governance/mode')).json.mode).toBe('normal');

    // An upgrade (a new code version) records a new signed baseline, audited.
    await server.stop();
    server = await startTestServer({
      dataDir: server.dataDir,
      env: { BUCKET_OWNER_KEY: server.ownerKey },
      ...(server.backend ? { backend: server.backend } : {}),
      bucket: { codeVersion: '99.0.0' },
    });
    const upgraded = await drift(server);
    expect(upgraded.baseline).toMatchObject({ sequence: 2, signatureValid: true });
    expect(upgraded.baseline.reason).toMatch(/^upgrade: schema \d+ → \d+, code .+ → 99\.0\.0$/);
    expect(upgraded.status).toBe('explained');
    const entries = (
      await client(server.url, server.ownerKey)(
        'GET',
        '/v1/audit/entries?principal=system&limit=200',
      )
    ).json.entries as { entry: { operation: string } }[];
    expect(entries.filter((e) => e.entry.operation === 'drift.baseline')).toHaveLength(2);
  });

  it('finds a table altered by hand', async () => {
    server = await startTestServer();
    await liveSql(server, 'ALTER TABLE versions ADD COLUMN note TEXT');
    await expectDrifted(server, 'database_schema');
    // A scrub runs the drift checks too, and fails on them (drift has its own incident).
    const owner = client(server.url, server.ownerKey);
    const started = await owner('POST', '/v1/governance/scrub');
    expect(started.status).toBe(202);
    let scrub = started.json;
    while (scrub.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      scrub = (await owner('GET', `/v1/governance/scrub/${started.json.id}`)).json;
    }
    expect(scrub.status).toBe('failed');
    expect(scrub.problems).toEqual([
      { code: 'drift', message: expect.stringContaining('database_schema') },
    ]);
    const kinds = (await owner('GET', '/v1/governance/incidents?status=open')).json.incidents.map(
      (incident: { kind: string }) => incident.kind,
    );
    expect(kinds).toEqual(['drift']);
  });

  it('finds an index added by hand, by its periodic check', async () => {
    server = await startTestServer({ bucket: { driftIntervalMs: 100 } });
    await liveSql(server, 'CREATE INDEX drift_probe ON versions (size)');
    // No read of the drift route: the periodic check opens the incident by itself.
    const { mode } = await driftIncident(server);
    expect(mode.mode).toBe('read_only');
    await expectDrifted(server, 'database_schema');
  });

  it('finds a trigger added by hand', async () => {
    server = await startTestServer();
    if (onPostgres(server)) {
      await liveSql(
        server,
        'CREATE FUNCTION drift_probe() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ ' +
          'LANGUAGE plpgsql',
      );
      await liveSql(
        server,
        'CREATE TRIGGER drift_probe AFTER INSERT ON versions FOR EACH ROW ' +
          'EXECUTE FUNCTION drift_probe()',
      );
    } else {
      await liveSql(
        server,
        'CREATE TRIGGER drift_probe AFTER INSERT ON versions BEGIN SELECT 1; END',
      );
    }
    await expectDrifted(server, 'database_schema');
  });

  it('finds a policy row edited by hand', async () => {
    server = await startTestServer();
    const owner = client(server.url, server.ownerKey);
    const live = (await owner('GET', '/v1/governance/policy')).json.document;
    live.limits.maxArtifactBytes = 1;
    await liveSql(server, 'UPDATE policy_versions SET document = ? WHERE version = 1', [
      JSON.stringify(live),
    ]);
    await expectDrifted(server, 'policy');
  });

  it('finds a policy version inserted by hand, with its hash', async () => {
    server = await startTestServer();
    const owner = client(server.url, server.ownerKey);
    const live = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...live.document, limits: { ...live.document.limits, listPageMax: 5 } };
    const { policyHash } = await import('../../src/domain/canonical.js');
    await liveSql(
      server,
      'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
      [2, policyHash(document), JSON.stringify(document), 'by hand', new Date().toISOString(), 'x'],
    );
    await expectDrifted(server, 'policy');
  });
});
