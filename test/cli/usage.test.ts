import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from './run.js';

const REMOTE_OPTIONS = ['--url <url>', '--key <key>', '--json'];

const HELP: Record<string, string[]> = {
  put: [
    '[artifact]',
    '[file]',
    '--batch',
    '--atomic',
    '--content-type',
    '--meta',
    '--if-none-match',
    '--if-version',
    '--force',
    ...REMOTE_OPTIONS,
  ],
  get: ['<artifact>', '-o, --output <file>', '--version <n>', '--no-resume', ...REMOTE_OPTIONS],
  ls: ['<product>', '--class', '--prefix', '--limit', '--cursor', '--all', ...REMOTE_OPTIONS],
  versions: ['<artifact>', ...REMOTE_OPTIONS],
  rm: ['<artifact>', ...REMOTE_OPTIONS],
  restore: ['<artifact>', ...REMOTE_OPTIONS],
  'keys create': ['--kind', '--product', '--name', '--expires', ...REMOTE_OPTIONS],
  'keys list': REMOTE_OPTIONS,
  'keys revoke': ['<id>', ...REMOTE_OPTIONS],
  'keys reinstate': ['<id>', ...REMOTE_OPTIONS],
  'integrations propose': [
    '--id',
    '--type',
    '--product',
    '--classes',
    '--content-filter',
    '--retention-policy',
    '--schema-file',
    ...REMOTE_OPTIONS,
  ],
  'integrations list': REMOTE_OPTIONS,
  'integrations revoke': ['<id>', '--product <product>', ...REMOTE_OPTIONS],
  keys: ['create', 'list', 'revoke', 'reinstate'],
  threats: ['--recent <n>', ...REMOTE_OPTIONS],
  status: ['healthy', ...REMOTE_OPTIONS],
  serve: ['BUCKET_DATA_DIR', 'PORT'],
};

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('bucket usage', () => {
  it('bucket --help lists every command', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of [
      'serve',
      'put',
      'get',
      'ls',
      'versions',
      'rm',
      'restore',
      'keys',
      'integrations',
      'threats',
      'status',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it.each(Object.entries(HELP))(
    'bucket %s --help describes its options',
    async (command, words) => {
      const result = await runCli([...command.split(' '), '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: bucket ${command}`);
      for (const word of words) expect(result.stdout).toContain(word);
      if (command !== 'keys' && command !== 'serve')
        expect(result.stdout).toContain('Examples:\n  $ bucket');
    },
  );

  it('a missing BUCKET_KEY is a clear usage error, before anything is sent', async () => {
    const result = await runCli(['ls', 'ai_avatar'], { env: { BUCKET_URL: 'http://127.0.0.1:1' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bucket: no API key: set BUCKET_KEY \(or pass --key\)/);
  });

  it('a refused connection names the address and BUCKET_URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['get', 'ai_avatar/model_checkpoint/x'], {
      env: { BUCKET_URL: url, BUCKET_KEY: 'bkt_whatever' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `bucket: cannot reach the Bucket at ${url} (BUCKET_URL): connection refused — is it running? Set BUCKET_URL or pass --url`,
    );
  });

  it('usage errors exit 2 with a message', async () => {
    const env = { BUCKET_URL: 'http://127.0.0.1:1', BUCKET_KEY: 'bkt_whatever' };
    const cases: [string[], RegExp][] = [
      [
        ['put', 'ai_avatar/model_checkpoint', 'file'],
        /not an artifact address: expected <product>\/<class>\/<name>/,
      ],
      [
        ['put', 'ai_avatar/model_checkpoint/x', '/nonexistent/file'],
        /cannot read \/nonexistent\/file/,
      ],
      [['put', 'ai_avatar/model_checkpoint/x'], /put needs <artifact> and <file>/],
      [
        ['put', 'ai_avatar/model_checkpoint/x', '-', '--meta', 'novalue'],
        /--meta "novalue": expected key=value/,
      ],
      [['ls', 'ai_avatar', '--limit', '0'], /--limit <n>' argument '0' is invalid/],
      [
        ['get', 'ai_avatar/model_checkpoint/x', '--version', 'latest'],
        /--version <n>' argument 'latest' is invalid/,
      ],
      [['ls', 'ai_avatar/model_checkpoint'], /is not a product id/],
      [
        ['get', 'ai_avatar/model_checkpoint/x', '-o', '/nonexistent/x'],
        /cannot write \/nonexistent\/x/,
      ],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [
        ['ls', 'ai_avatar', '--url', 'ftp://example'],
        /--url must be an http:\/\/ or https:\/\/ URL/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { env });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });

  it('bucket --version prints the version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
