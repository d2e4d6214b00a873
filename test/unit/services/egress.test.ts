/**
 * Outgoing requests under the egress rules (SPEC §11), against a real receiver on the loopback:
 * the address is checked where it is connected to, after name resolution — a name resolving to
 * 127.0.0.1 is refused unless `egress.allow` names it — and redirects are never followed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressRefused, postOut, type Resolver } from '../../../src/services/egress.js';
import { startReceiver, type Receiver } from '../../helpers/webhook-receiver.js';

let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver((_n, request) =>
    request.path === '/redirect' ? { status: 302, headers: { location: '/target' } } : 200,
  );
});
afterAll(async () => {
  await receiver.close();
});

/** A resolver of our own: every name answers with the loopback address (a rebinding attacker). */
const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

function post(url: string, allow: string[], resolver?: Resolver) {
  return postOut({ url, body: '{}', headers: {}, allow, timeoutMs: 2000, resolver });
}

describe('egress', () => {
  it('refuses a name that resolves to the loopback, before anything is sent', async () => {
    const before = receiver.received.length;
    await expect(
      post(`http://hooks.example.test:${receiver.port}/x`, [], toLoopback),
    ).rejects.toBeInstanceOf(EgressRefused);
    await expect(post(`http://localhost:${receiver.port}/x`, [])).rejects.toBeInstanceOf(
      EgressRefused,
    );
    expect(receiver.received.length).toBe(before);
  });

  it('refuses loopback and mapped literals, and other schemes', async () => {
    for (const url of [
      `http://127.0.0.1:${receiver.port}/`,
      `http://[::ffff:127.0.0.1]:${receiver.port}/`,
      `http://[::1]:${receiver.port}/`,
      `http://0.0.0.0:${receiver.port}/`,
      `file:///etc/passwd`,
      `ftp://127.0.0.1/`,
    ]) {
      await expect(post(url, []), url).rejects.toBeInstanceOf(EgressRefused);
    }
  });

  it('connects where egress.allow names the host, the address, or the host and its port', async () => {
    const url = `http://hooks.example.test:${receiver.port}/ok`;
    expect(await post(url, ['hooks.example.test'], toLoopback)).toEqual({ status: 200 });
    expect(await post(url, ['127.0.0.1'], toLoopback)).toEqual({ status: 200 });
    expect(await post(url, [`hooks.example.test:${receiver.port}`], toLoopback)).toEqual({
      status: 200,
    });
    await expect(
      post(url, [`hooks.example.test:${receiver.port + 1}`], toLoopback),
    ).rejects.toBeInstanceOf(EgressRefused);
    expect(await post(`http://localhost:${receiver.port}/ok`, ['localhost'])).toEqual({
      status: 200,
    });
  });

  it('answers a redirect with its status and never follows it', async () => {
    const before = receiver.received.length;
    const answer = await post(`http://127.0.0.1:${receiver.port}/redirect`, ['127.0.0.1']);
    expect(answer.status).toBe(302);
    const paths = receiver.received.slice(before).map((request) => request.path);
    expect(paths).toEqual(['/redirect']);
  });
});
