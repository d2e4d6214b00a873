/**
 * `bucket threats` and `bucket keys reinstate` (SPEC §5) against a real server: a product key
 * suspended by three requests with a CRITICAL detection is listed with its way out, its refusal
 * names that way, and the owner's reinstatement lets it work again.
 */
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket threats and bucket keys reinstate', () => {
  const cli = cliServer();

  it('lists a key suspended after three CRITICAL requests, and reinstating it lets it work again', async () => {
    const { key, id } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const asAvatar = cli.as(key);
    // A read in another product's namespace: refused with a CRITICAL T1, three times.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const crossProduct = await runCli(['get', 'gurukul/user_progress/someone.json'], {
        env: asAvatar,
      });
      expect(crossProduct.code).toBe(1);
      expect(crossProduct.stderr).toMatch(/^ {2}threat: T1 Access control bypass \(CRITICAL\): /m);
    }

    // Even a legitimate request is refused now, and the refusal says how to lift it.
    const suspended = await runCli(['ls', 'ai_avatar'], { env: asAvatar });
    expect(suspended.code).toBe(1);
    expect(suspended.stderr).toMatch(
      new RegExp(`^bucket: principal_suspended: this key \\(${id}\\) is suspended .*`, 'm'),
    );
    expect(suspended.stderr).toContain(`\`bucket keys reinstate ${id}\``);

    const threats = await runCli(['threats'], { env: cli.owner });
    expect(threats.code).toBe(0);
    expect(threats.stdout).toMatch(/^ID\s+THREAT\s+SEVERITY\s+COUNT\s+LAST 24H\s+DETECTORS$/m);
    const t1 = /^T1\s+Access control bypass\s+CRITICAL\s+(\d+)\s+(\d+)\s/m.exec(threats.stdout);
    expect(Number(t1?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(t1?.[2])).toBeGreaterThanOrEqual(3);
    expect(threats.stdout).toMatch(/^T7\s+Over-trust\s+MEDIUM\s+\d+\s+\d+\s/m);
    expect(threats.stdout).toMatch(/^suspended keys \(1\), refused until the owner reinstates/m);
    expect(threats.stdout).toMatch(
      new RegExp(
        `^${id}\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+bucket keys reinstate ${id}\\s+3 requests with a CRITICAL detection within 3600 s$`,
        'm',
      ),
    );
    const detections = threats.stdout
      .split('\n')
      .filter((line) => new RegExp(`^\\S+Z\\s+T1\\s+CRITICAL\\s+${id}\\s`).test(line));
    expect(detections).toHaveLength(3);
    expect(detections[0]).toContain('product key of "ai_avatar" on namespace "gurukul"');

    const oneDetection = await runCli(['threats', '--recent', '1'], { env: cli.owner });
    expect(oneDetection.stdout).toMatch(/^recent detections \(newest first, 1 of the \d+ the /m);
    expect(oneDetection.stdout).toContain('--recent N for more');
    expect(oneDetection.stdout.split('\n').filter((line) => line.includes(id))).toHaveLength(
      // The suspended-keys row, and one detection.
      2,
    );

    const asJson = await runCli(['threats', '--json'], { env: cli.owner });
    expect(asJson.code).toBe(0);
    const [suspension] = JSON.parse(asJson.stdout).suspendedKeys;
    expect(suspension).toEqual({
      keyId: id,
      suspendedAt: expect.any(String),
      reason: expect.stringContaining('CRITICAL'),
    });
    // Suspended by the third detection: at or after it, and not in the future.
    expect(Date.parse(suspension.suspendedAt)).toBeGreaterThanOrEqual(
      Date.parse(/^(\S+Z)\s+T1\s/m.exec(threats.stdout)?.[1] ?? ''),
    );
    expect(Date.parse(suspension.suspendedAt)).toBeLessThanOrEqual(Date.now());

    const reinstated = await runCli(['keys', 'reinstate', id], { env: cli.owner });
    expect(reinstated.code).toBe(0);
    expect(reinstated.stdout).toBe(`reinstated key ${id}\n`);
    expect(reinstated.stderr).toContain('one more request with one suspends it again');
    expect((await runCli(['ls', 'ai_avatar'], { env: asAvatar })).code).toBe(0);
    const after = await runCli(['threats'], { env: cli.owner });
    expect(after.stdout).toMatch(/^suspended keys: none$/m);

    // Reinstating is idempotent: a key that is not suspended is said so, exit 0.
    const again = await runCli(['keys', 'reinstate', id], { env: cli.owner });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`key ${id} was not suspended: nothing to do\n`);
    const againJson = await runCli(['keys', 'reinstate', id, '--json'], { env: cli.owner });
    expect(JSON.parse(againJson.stdout)).toEqual({ keyId: id, reinstated: false });
  });

  it('a product key gets the server’s 403 for threats and reinstate (exit 1)', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const asGurukul = cli.as(key);
    for (const args of [['threats'], ['keys', 'reinstate', 'key_owner']]) {
      const refused = await runCli(args, { env: asGurukul });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^bucket: forbidden: .*\(request req_\w+\)$/m);
      expect(refused.stderr).toMatch(/^ {2}threat: T4 Governance circumvention \(HIGH\): /m);
    }
  });

  it('refuses an unknown key with exit 1 and a bad --recent with exit 2', async () => {
    const unknown = await runCli(['keys', 'reinstate', 'key_does_not_exist'], { env: cli.owner });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bucket: key_not_found: no key "key_does_not_exist"/m);

    const badRecent = await runCli(['threats', '--recent', '0'], { env: cli.owner });
    expect(badRecent.code).toBe(2);
    expect(badRecent.stderr).toContain('expected a positive integer');
  });
});
