/**
 * Two nodes of one scale-out Bucket (PostgreSQL + Redis + an S3 server of their own), registered
 * as beforeAll/afterAll where it is called; its members are there once the hook has run. For the
 * tests of what one node sees of another's changes.
 */
import { afterAll, beforeAll } from 'vitest';
import { startS3, type TestS3 } from './s3.js';
import { createScaleOutBackend, type ScaleOutBackend } from './scaleout.js';
import { startTestServer, type InProcessTestServer, type ServerOptions } from './server.js';
import { serviceAvailable } from './services.js';

/** Whether PostgreSQL and Redis answer: the tests of two nodes run only then. */
export const twoNodesAvailable = async (): Promise<boolean> =>
  (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));

export interface TwoNodes {
  readonly nodeA: InProcessTestServer;
  /** Started with node A's owner key. */
  readonly nodeB: InProcessTestServer;
  /** The database, Redis and object store they share: for a third node. */
  readonly backend: ScaleOutBackend;
}

/** `bucket`: options both nodes are created with (a shared test clock). */
export function twoNodes(bucket?: ServerOptions['bucket']): TwoNodes {
  let s3: TestS3 | undefined;
  let backend: ScaleOutBackend | undefined;
  let nodes: { nodeA: InProcessTestServer; nodeB: InProcessTestServer } | undefined;
  beforeAll(async () => {
    s3 = await startS3();
    backend = await createScaleOutBackend(s3.endpoint);
    const nodeA = await startTestServer({ backend, ...(bucket ? { bucket } : {}) });
    const nodeB = await startTestServer({
      backend,
      env: { BUCKET_OWNER_KEY: nodeA.ownerKey },
      ...(bucket ? { bucket } : {}),
    });
    nodes = { nodeA, nodeB };
  });
  afterAll(async () => {
    await nodes?.nodeA.dispose();
    await nodes?.nodeB.dispose();
    await backend?.dispose();
    await s3?.stop();
  });
  const get = () => {
    if (!nodes) throw new Error('twoNodes(): used before its beforeAll ran');
    return nodes;
  };
  return {
    get nodeA() {
      return get().nodeA;
    },
    get nodeB() {
      return get().nodeB;
    },
    get backend() {
      get();
      return backend as ScaleOutBackend;
    },
  };
}
