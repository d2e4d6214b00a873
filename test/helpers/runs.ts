/** Waiting for Core's runs in tests. */
import type { client } from './server.js';

type Api = ReturnType<typeof client>;

/** Polls a run until it is finished. */
export async function finished(api: Api, id: string, ms = 10_000): Promise<any> {
  const until = Date.now() + ms;
  for (;;) {
    const answer = await api('GET', `/v1/runs/${id}`);
    const status = answer.json?.status as string | undefined;
    if (answer.status !== 200) throw new Error(`run ${id}: ${answer.status}`);
    if (status !== 'queued' && status !== 'running') return answer.json;
    if (Date.now() > until) throw new Error(`run ${id} still ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lets Core reach the loopback (the test agent server): `egress.allow: ["127.0.0.1"]`. */
export async function allowLoopback(owner: Api): Promise<void> {
  const policy = (await owner('GET', '/v1/governance/policy')).json;
  const document = { ...policy.document, egress: { allow: ['127.0.0.1'] } };
  const answer = await owner('PUT', '/v1/governance/policy', {
    body: { document, reason: 'the test agent server on the loopback' },
  });
  if (answer.status !== 200) throw new Error(`policy update: ${answer.status}`);
}
