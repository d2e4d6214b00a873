/**
 * Certification and the failure mechanisms (SPEC §9), on either backend: an open incident fails
 * its check while it is open — integrity → G1, drift → G6, gate failure → F6 — and a disarmed
 * schedule fails its mechanism's check: the drift check → F4, the scrub → F5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certify, failing, scrubToEnd } from '../helpers/certification.js';
import { liveSql } from '../helpers/live-sql.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const PATH = '/v1/artifacts/ai_avatar/avatar_config/cert/small.json';
const INLINE =
  'UPDATE versions SET inline_content = ? ' +
  "WHERE product = 'ai_avatar' AND name = 'cert/small.json' AND version = 1";

describe('open incidents and disarmed mechanisms', () => {
  let server: InProcessTestServer;
  let product = '';

  /** Resolves every open incident and returns the Bucket to normal, as the owner would. */
  async function recover(): Promise<void> {
    const owner = client(server.url, server.ownerKey);
    const open = await owner('GET', '/v1/governance/incidents?status=open');
    for (const incident of open.json.incidents as { id: string }[]) {
      const resolved = await owner('POST', `/v1/governance/incidents/${incident.id}/resolve`, {
        body: { resolution: 'repaired' },
      });
      expect(resolved.status).toBe(200);
    }
    const mode = await owner('POST', '/v1/governance/mode', {
      body: { mode: 'normal', reason: 'repaired' },
    });
    expect(mode.status).toBe(200);
  }

  async function openKinds(): Promise<string[]> {
    const owner = client(server.url, server.ownerKey);
    const open = await owner('GET', '/v1/governance/incidents?status=open');
    return (open.json.incidents as { kind: string }[]).map((incident) => incident.kind);
  }

  beforeAll(async () => {
    server = await startTestServer({
      bucket: {
        scrubThrottle: { share: 1, bytesPerSecond: 0 },
        gate: {
          // A test-only fault: the gate throws on requests that carry `?boom` (fail closed).
          beforeStage: (stage, ctx) => {
            if (stage === 'identity' && ctx.query['boom'] !== undefined) throw new Error('boom');
          },
        },
      },
    });
    product = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    const written = await client(server.url, product)('PUT', PATH, { body: { look: 'calm' } });
    expect(written.status).toBe(201);
    expect(await scrubToEnd(server)).toBe('passed');
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('is certified with no incident open', async () => {
    expect(failing(await certify(server))).toEqual([]);
  });

  it('fails G1 while an integrity incident is open', async () => {
    await liveSql(server, INLINE, [Buffer.from('{"look":"evil"}')]);
    const read = await client(server.url, product)('GET', PATH);
    expect(read.status).toBe(503);
    for (let attempt = 0; attempt < 100 && !(await openKinds()).includes('integrity'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G1']);
    expect(answer.checks[0]?.evidence.openIncidents).toHaveLength(1);
    await liveSql(server, INLINE, [Buffer.from(JSON.stringify({ look: 'calm' }))]);
    await recover();
    expect(failing(await certify(server))).toEqual([]);
  });

  it('fails G6 while the database schema drifted', async () => {
    await liveSql(server, 'CREATE INDEX certification_drift ON versions (size)');
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G6']);
    expect(answer.checks.find((c) => c.id === 'G6')?.evidence.drift).toBe('drifted');
    expect(await openKinds()).toContain('drift');
    await liveSql(server, 'DROP INDEX certification_drift');
    await recover();
    expect(failing(await certify(server))).toEqual([]);
  });

  it('fails F6 while a gate-failure incident is open', async () => {
    const api = client(server.url, server.ownerKey);
    for (let n = 0; n < 10; n++) {
      expect((await api('GET', '/v1/governance/policy?boom=1')).status).toBe(503);
    }
    await server.bucket.gateHealth.settled();
    expect(await openKinds()).toContain('gate_failure');
    expect(failing(await certify(server))).toEqual(['F6']);
    await recover();
    expect(failing(await certify(server))).toEqual([]);
  });

  it('fails F4 when the drift check is no longer scheduled', async () => {
    server.bucket.drift.stop();
    expect(failing(await certify(server))).toEqual(['F4']);
  });

  it('fails F5 when scrubs are no longer scheduled', async () => {
    await server.bucket.scrub.stop();
    expect(failing(await certify(server))).toEqual(['F4', 'F5']);
  });
});
