import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket policy', () => {
  const cli = cliServer();

  const livePolicy = async () => {
    const answer = await client(cli.server.url, cli.server.ownerKey)(
      'GET',
      '/v1/governance/policy',
    );
    expect(answer.status).toBe(200);
    return answer.json as { version: number; hash: string; document: any };
  };

  const policyFile = async (name: string, text: string) => {
    const path = join(cli.dir, name);
    await writeFile(path, text);
    return path;
  };

  it('show prints the live policy as YAML that parses back to the document the API returns', async () => {
    const live = await livePolicy();
    const shown = await runCli(['policy', 'show'], { env: cli.owner });
    expect(shown.code).toBe(0);
    expect(shown.stdout.split('\n')[0]).toMatch(
      new RegExp(`^# policy v${live.version}, set \\S+ by \\S+: ".+"$`),
    );
    expect(shown.stdout).toContain(`# sha256 ${live.hash}`);
    expect(parse(shown.stdout)).toEqual(live.document);

    const json = await runCli(['policy', 'show', '--json'], { env: cli.owner });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(live);
  });

  it('set from a YAML file changing one limit makes a new version that show, versions and diff report', async () => {
    const before = await livePolicy();
    const next = before.version + 1;
    const rate = before.document.limits.writesPerSecond + 500;
    const edited = structuredClone(before.document);
    edited.limits.writesPerSecond = rate;
    const file = await policyFile('raise.yaml', stringify(edited));

    const set = await runCli(['policy', 'set', file, '--reason', 'launch week'], {
      env: cli.owner,
    });
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(
      new RegExp(`^policy v${next} is live \\(sha256 [0-9a-f]{64}\\)$`, 'm'),
    );
    expect(set.stdout).toMatch(new RegExp(`^1 change from v${before.version}:$`, 'm'));
    expect(set.stdout).toContain(
      `~ /limits/writesPerSecond: ${before.document.limits.writesPerSecond} → ${rate}`,
    );
    expect(set.stdout).not.toContain(cli.server.ownerKey);

    const after = await livePolicy();
    expect(after.version).toBe(next);
    expect(after.document.limits.writesPerSecond).toBe(rate);

    const shown = await runCli(['policy', 'show'], { env: cli.owner });
    expect(shown.stdout).toMatch(
      new RegExp(`^# policy v${next}, set \\S+ by key_owner: "launch week"$`, 'm'),
    );
    expect(parse(shown.stdout).limits.writesPerSecond).toBe(rate);
    const old = await runCli(['policy', 'show', '--version', String(before.version)], {
      env: cli.owner,
    });
    expect(old.code).toBe(0);
    expect(parse(old.stdout)).toEqual(before.document);

    const versions = await runCli(['policy', 'versions'], { env: cli.owner });
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/^VERSION\s+CREATED\s+BY\s+HASH\s+REASON$/m);
    expect(versions.stdout).toMatch(/^1\s+\S+\s+system\s+[0-9a-f]{12}\s+default policy$/m);
    expect(versions.stdout).toMatch(
      new RegExp(`^${next}\\s+\\S+\\s+key_owner\\s+[0-9a-f]{12}\\s+launch week$`, 'm'),
    );

    const diff = await runCli(['policy', 'diff', String(next)], { env: cli.owner });
    expect(diff.code).toBe(0);
    expect(diff.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^policy v${next}, set \\S+ by key_owner: "launch week"$`)),
      `1 change from v${before.version}:`,
      `~ /limits/writesPerSecond: ${before.document.limits.writesPerSecond} → ${rate}`,
    ]);
    const diffJson = await runCli(['policy', 'diff', String(next), '--json'], { env: cli.owner });
    expect(JSON.parse(diffJson.stdout).diff).toEqual([
      {
        op: 'replace',
        path: '/limits/writesPerSecond',
        from: before.document.limits.writesPerSecond,
        to: rate,
      },
    ]);
  });

  it('set reads JSON from stdin, and show output goes back in as it is', async () => {
    const before = await livePolicy();
    const edited = structuredClone(before.document);
    edited.products.gurukul.displayName = 'Gurukul Learning';
    const set = await runCli(['policy', 'set', '-', '--reason', 'rename'], {
      env: cli.owner,
      stdin: JSON.stringify(edited),
    });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('~ /products/gurukul/displayName: "Gurukul" → "Gurukul Learning"');

    // `show` output (comment header and all) is a policy file: the round trip changes nothing,
    // and makes no version.
    const live = await livePolicy();
    const shown = await runCli(['policy', 'show'], { env: cli.owner });
    const again = await runCli(['policy', 'set', '-', '--reason', 'unchanged'], {
      env: cli.owner,
      stdin: shown.stdout,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(
      `unchanged: policy v${live.version} already holds this document (sha256 ${live.hash}); ` +
        'no new version',
    );
    expect(await livePolicy()).toEqual(live);
    const versions = await client(cli.server.url, cli.server.ownerKey)(
      'GET',
      '/v1/governance/policy/versions',
    );
    expect(versions.json.versions.at(-1).version).toBe(live.version);
  });

  it('an invalid document exits 1 with the path of every error, and the policy is unchanged', async () => {
    const before = await livePolicy();
    const text = stringify(before.document)
      .replace(/^( {2}writesPerSecond): \d+$/m, '$1: -5')
      .replace(/^limits:$/m, 'limits:\n  writesPerSecnd: 10');
    const file = await policyFile('invalid.yaml', text);

    const refused = await runCli(['policy', 'set', file, '--reason', 'typo'], { env: cli.owner });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^bucket: invalid_policy: .*\(request req_\w+\)$/m);
    expect(refused.stderr).toMatch(/^ {2}error: \/limits\/writesPerSecond: must be >= 1$/m);
    expect(refused.stderr).toMatch(
      /^ {2}error: \/limits\/writesPerSecnd: unknown field "writesPerSecnd"$/m,
    );

    expect(await livePolicy()).toEqual(before);
    const json = await runCli(['policy', 'set', file, '--reason', 'typo', '--json'], {
      env: cli.owner,
    });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.details.errors).toContainEqual({
      path: '/limits/writesPerSecond',
      message: 'must be >= 1',
    });
  });

  it('a YAML syntax error exits 2 naming the file and line, and nothing is sent', async () => {
    const before = await livePolicy();
    const file = await policyFile(
      'broken.yaml',
      'limits:\n  writesPerSecond: 10\n  list: [a, b\nclasses: {}\n',
    );
    // No Bucket listens there: had anything been sent, this would be a connection failure (1).
    const result = await runCli(['policy', 'set', file, '--reason', 'broken'], {
      env: { BUCKET_URL: 'http://127.0.0.1:1', BUCKET_KEY: cli.server.ownerKey },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`^bucket: ${file.replace(/[.\\]/g, '\\$&')}:4:1: `, 'm'),
    );
    expect(result.stderr).not.toContain('cannot reach');
    expect(await livePolicy()).toEqual(before);

    const missing = await runCli(['policy', 'set', join(cli.dir, 'nope.yaml'), '--reason', 'x'], {
      env: cli.owner,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^bucket: cannot read .*nope\.yaml: /m);
  });

  it('a product key reads the policy but may not set it: the 403 is reported, exit 1', async () => {
    const before = await livePolicy();
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_assistant' });
    const asProduct = cli.as(key);

    const shown = await runCli(['policy', 'show'], { env: asProduct });
    expect(shown.code).toBe(0);
    expect(parse(shown.stdout)).toEqual(before.document);

    const file = await policyFile('product.yaml', stringify(before.document));
    const refused = await runCli(['policy', 'set', file, '--reason', 'mine now'], {
      env: asProduct,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bucket: forbidden: .*\(request req_\w+\)$/m);
    expect(refused.stderr).toMatch(/^ {2}reason: action_access: /m);
    expect(refused.stderr).not.toContain(key);
    expect(await livePolicy()).toEqual(before);
  });

  it('refuses bad arguments with exit 2 and unknown versions with exit 1', async () => {
    const zero = await runCli(['policy', 'diff', '0'], { env: cli.owner });
    expect(zero.code).toBe(2);
    const noReason = await runCli(['policy', 'set', 'policy.yaml'], { env: cli.owner });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    const unknown = await runCli(['policy', 'show', '--version', '9999'], { env: cli.owner });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bucket: policy_version_not_found: no policy version 9999/m);
  });

  it('restore makes an earlier version live again as the next version', async () => {
    const before = await livePolicy();
    const restored = await runCli(['policy', 'restore', '1', '--reason', 'back to the start'], {
      env: cli.owner,
    });
    expect(restored.code, restored.stderr).toBe(0);
    const now = await livePolicy();
    expect(now.version).toBe(before.version + 1);
    expect(restored.stdout).toContain(`policy v${now.version} is live: the document of v1`);
    const first = await client(cli.server.url, cli.server.ownerKey)(
      'GET',
      '/v1/governance/policy/versions/1',
    );
    expect(now.document).toEqual(first.json.document);
    const again = await runCli(['policy', 'restore', '1', '--reason', 'again'], { env: cli.owner });
    expect(again.stdout).toContain(`unchanged: policy v${now.version} already holds`);
    const unknown = await runCli(['policy', 'restore', '9999', '--reason', 'x'], {
      env: cli.owner,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bucket: policy_version_not_found: /m);
  });

  it.each(['show', 'versions', 'diff', 'set', 'restore'])(
    'policy %s --help describes it with examples',
    async (name) => {
      const help = await runCli(['policy', name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: bucket policy ${name} `, 'm'));
      expect(help.stdout).toMatch(new RegExp(`^Examples:\\n {2}\\$ bucket policy `, 'm'));
    },
  );
});
