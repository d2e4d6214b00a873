/**
 * Certification test helpers (SPEC §9): a scrub run to its end (G2 needs a passed one), the
 * certification fetched fresh, and the ids of the checks that failed.
 */
import { expect } from 'vitest';
import { client, type InProcessTestServer } from './server.js';

export interface CertificationAnswer {
  status: 'certified' | 'not_certified';
  generatedAt: string;
  policyVersion: number;
  checkpoint: { size: number; rootHash: string };
  checks: { id: string; name: string; status: string; evidence: any; checkedAt: string }[];
}

/** Starts a scrub as the owner and waits for it to end; returns its status. */
export async function scrubToEnd(server: InProcessTestServer): Promise<string> {
  const owner = client(server.url, server.ownerKey);
  const started = await owner('POST', '/v1/governance/scrub');
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  for (let attempt = 0; attempt < 600; attempt++) {
    const answer = await owner('GET', `/v1/governance/scrub/${started.json.id as string}`);
    if (answer.json.status !== 'running') return answer.json.status as string;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the scrub did not finish');
}

/** The certification computed now (the 10 s cache forgotten), as `key` sees it. */
export async function certify(
  server: InProcessTestServer,
  key = server.ownerKey,
): Promise<CertificationAnswer> {
  server.bucket.certification.invalidate();
  const answer = await client(server.url, key)('GET', '/v1/governance/certification');
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json as CertificationAnswer;
}

export function failing(answer: CertificationAnswer): string[] {
  return answer.checks.filter((check) => check.status === 'fail').map((check) => check.id);
}
