/** `bucket serve --help` lists every environment variable the server reads, one line each. */
import { describe, expect, it } from 'vitest';
import { SERVER_VARIABLES } from '../../src/config.js';
import { runCli } from './run.js';

describe('bucket serve --help', () => {
  it('names every variable the server reads, with its default', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    const lines = help.stdout.split('\n');
    for (const { name, fallback } of SERVER_VARIABLES) {
      const line = lines.find((text) => text.trimStart().startsWith(`${name} `));
      expect(line, name).toBeDefined();
      expect(line).toContain(fallback);
    }
    for (const name of [
      'BUCKET_S3_PORT',
      'BUCKET_WORKERS',
      'BUCKET_MASTER_KEY_FILE',
      'BUCKET_AUDIT_KEY_FILE',
      'BUCKET_AUDIT_ORIGIN',
      'BUCKET_IDLE_TIMEOUT_S',
      'BUCKET_INLINE_MAX_BYTES',
      'BUCKET_RETENTION_SWEEP_MINUTES',
      'BUCKET_SCRUB_HOURS',
    ]) {
      expect(help.stdout).toContain(name);
    }
  });
});
