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
