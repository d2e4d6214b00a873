/** Policy changes of the limits for e2e tests (SPEC §2.3): set through the owner's policy API. */
import { client, type TestServer } from './server.js';

/** Replaces the live policy with `limits` over its current ones; returns the new version. */
export async function setLimits(
  server: TestServer,
  limits: Record<string, number>,
  reason = 'test limits',
): Promise<number> {
  const owner = client(server.url, server.ownerKey);
  const { document } = (await owner('GET', '/v1/governance/policy')).json;
  Object.assign(document.limits, limits);
  const answer = await owner('PUT', '/v1/governance/policy', { body: { document, reason } });
  if (answer.status !== 200)
    throw new Error(`policy: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json.version;
}

/** Replaces the live policy with what `change` makes of a copy of it (through the owner's API). */
export async function changePolicy(
  server: TestServer,
  change: (document: any) => void,
  reason = 'test policy',
): Promise<void> {
  const owner = client(server.url, server.ownerKey);
  const { document } = (await owner('GET', '/v1/governance/policy')).json;
  change(document);
  const answer = await owner('PUT', '/v1/governance/policy', { body: { document, reason } });
  if (answer.status !== 200) {
    throw new Error(`policy: ${answer.status} ${answer.bytes.toString()}`);
  }
}

/** Rates no test setup reaches, for tests that load the Bucket faster than the default limits. */
export const raiseRates = (server: TestServer) =>
  setLimits(server, { writesPerSecond: 1_000_000, readsPerSecond: 1_000_000 }, 'test setup load');
