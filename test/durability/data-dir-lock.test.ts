/** One server per data directory; a pid file left by a killed server does not block a restart. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

describe('the data directory lock', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of servers.reverse()) await server.dispose();
  });

  it('refuses a second server on the same data directory, naming the running one', async () => {
    const first = await startServerProcess();
    servers.push(first);
    const pid = Number((await readFile(join(first.dataDir, 'bucket.pid'), 'utf8')).trim());
    expect(pid).toBe(first.process.pid);
    await expect(startServerProcess({ dataDir: first.dataDir })).rejects.toThrow(
      new RegExp(`another Bucket \\(pid ${pid}\\) is running on`),
    );
    // The first one is untouched.
    expect((await client(first.url)('GET', '/health')).status).toBe(200);
  });

  it('takes over the pid file of a server killed with SIGKILL', async () => {
    const killed = await startServerProcess();
    await killed.kill('SIGKILL');
    const restarted = await startServerProcess({ dataDir: killed.dataDir });
    servers.push(killed, restarted);
    expect((await client(restarted.url)('GET', '/health')).status).toBe(200);
    const pid = Number((await readFile(join(killed.dataDir, 'bucket.pid'), 'utf8')).trim());
    expect(pid).toBe(restarted.process.pid);
  });
});
