/**
 * The event bus across nodes (SPEC §10): two nodes on one PostgreSQL + Redis + S3 number their
 * concurrent changes as one gap-free sequence, and a stream on one node receives the other's
 * events as they commit (the database wakes it), in cursor order.
 */
import { describe, expect, it } from 'vitest';
import { client, createKey, type TestServer } from '../helpers/server.js';
import { twoNodes, twoNodesAvailable } from '../helpers/two-nodes.js';

/** The `id`s of the Server-Sent Events read from `response` until `count` have arrived. */
async function streamedIds(response: Response, count: number): Promise<number[]> {
  const ids: number[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  while (ids.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    // The last piece may be a line cut in two: kept for the next chunk.
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('id: ')) ids.push(Number(line.slice(4)));
  }
  await reader.cancel();
  return ids;
}

describe.runIf(await twoNodesAvailable())('the event bus on two nodes', () => {
  const nodes = twoNodes();

  it('numbers concurrent writes on both nodes gap-free, and streams them on either', async () => {
    const { nodeA, nodeB } = nodes;
    const { key } = await createKey(nodeA, { kind: 'product', product: 'ai_assistant' });
    const owner = (node: TestServer) => client(node.url, nodeA.ownerKey);
    const start = Number((await owner(nodeA)('GET', '/v1/events?limit=1000')).json.nextCursor);
    // A stream on B, opened before the writes: A's events reach it through the database.
    const stream = await fetch(`${nodeB.url}/v1/events/stream?since=${start}`, {
      headers: { authorization: `Bearer ${nodeA.ownerKey}` },
    });
    expect(stream.status).toBe(200);
    const writes = Array.from({ length: 40 }, (_, i) =>
      client(i % 2 === 0 ? nodeA.url : nodeB.url, key)(
        'PUT',
        `/v1/artifacts/ai_assistant/metadata/nodes-${i}.json`,
        { body: '{}', headers: { 'content-type': 'application/json' } },
      ),
    );
    expect((await Promise.all(writes)).map((answer) => answer.status)).toEqual(
      writes.map(() => 201),
    );
    const expected = Array.from({ length: 40 }, (_, i) => start + 1 + i);
    expect(await streamedIds(stream, 40)).toEqual(expected);
    for (const node of [nodeA, nodeB]) {
      const page = (await owner(node)('GET', `/v1/events?since=${start}&limit=1000`)).json;
      expect(page.events.map((e: { id: string }) => Number(e.id))).toEqual(expected);
      expect(new Set(page.events.map((e: { auditindex: number }) => e.auditindex)).size).toBe(40);
    }
  });
});
