/**
 * `bucket put` refused for the content type it chose by itself (415): the report adds the option
 * that sends another type; a type the user chose gets the server's answer alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli, type CliEnv } from './run.js';

describe('bucket put, content types', () => {
  const cli = cliServer();
  let env: CliEnv;

  beforeAll(async () => {
    env = cli.as((await createKey(cli.server, { kind: 'product', product: 'ai_avatar' })).key);
  });

  it('suggests --content-type application/json when its default type was refused', async () => {
    const refused = await runCli(['put', 'ai_avatar/avatar_config/stdin-cfg', '-'], {
      env,
      stdin: '{"a":2}\n',
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^bucket: unsupported_media_type: .*not application\/octet-stream/m,
    );
    expect(refused.stderr).toMatch(
      /^ {2}hint: bucket put sent application\/octet-stream, its default for stdin to an artifact name not ending in \.json: if the content is JSON, add --content-type application\/json/m,
    );

    const typed = await runCli(
      ['put', 'ai_avatar/avatar_config/stdin-cfg', '-', '--content-type', 'application/json'],
      { env, stdin: '{"a":2}\n' },
    );
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.stdout).toMatch(/^created ai_avatar\/avatar_config\/stdin-cfg v1 /);
  });

  it('adds no hint to a type the user chose', async () => {
    const chosen = await runCli(
      ['put', 'ai_avatar/avatar_config/plain-cfg', '-', '--content-type', 'text/plain'],
      { env, stdin: '{"a":2}\n' },
    );
    expect(chosen.code).toBe(1);
    expect(chosen.stderr).toMatch(/unsupported_media_type/);
    expect(chosen.stderr).not.toMatch(/hint:/);
  });
});
