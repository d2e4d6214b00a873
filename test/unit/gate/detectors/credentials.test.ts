import { describe, expect, it } from 'vitest';
import {
  detectCredentials,
  isCredentialName,
  nameWords,
} from '../../../../src/gate/detectors/credentials.js';

const ids = (threats: { id: string }[]) => threats.map((t) => t.id);

describe('credentials detector (T1)', () => {
  it.each([
    'password',
    'db_password',
    'Password',
    'secret',
    'client_secret',
    'api_key',
    'apiKey',
    'API_KEY',
    'api-key',
    'apikey',
    'private_key',
    'privateKey',
    'token',
    'accessToken',
    'refresh_token',
    'aws.secret_key',
  ])('treats a string member named %s as a credential', (name) => {
    const threats = detectCredentials({ config: { [name]: 'hunter2' } });
    expect(ids(threats)).toEqual(['T1']);
    expect(threats[0]?.evidence).toContain(`/config/`);
    // Evidence never carries the secret.
    expect(threats[0]?.evidence).not.toContain('hunter2');
  });

  it.each([
    ['passwordPolicy', true],
    ['passwordPolicy', 'strong'],
    ['tokenCount', 'many'],
    ['max_tokens', 'ten'],
    ['tokenizer', 'gpt2'],
    ['secretary', 'Ms. Moneypenny'],
    ['password', true],
    ['password', 12],
    ['password', null],
    ['password', ''],
    ['keyboard', 'qwerty'],
  ])('lets %s = %j through', (name, value) => {
    expect(detectCredentials({ [name]: value })).toEqual([]);
  });

  it('finds credentials at any depth, inside arrays too', () => {
    const threats = detectCredentials({ a: [{ b: { c: [{ token: 'x' }] } }] });
    expect(threats.map((t) => t.evidence)).toEqual([
      'credential member "token" at /a/0/b/c/0/token',
    ]);
  });

  it('finds AWS access key ids and PEM private keys in any string', () => {
    expect(ids(detectCredentials({ note: 'key AKIAIOSFODNN7EXAMPLE here' }))).toEqual(['T1']);
    expect(ids(detectCredentials(['AKIAIOSFODNN7EXAMPLE']))).toEqual(['T1']);
    for (const header of [
      '-----BEGIN PRIVATE KEY-----',
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----',
    ]) {
      expect(ids(detectCredentials({ pem: `${header}\nMIIE...` })), header).toEqual(['T1']);
    }
  });

  it('lets look-alikes through', () => {
    expect(detectCredentials({ note: 'AKIA is the prefix of AWS key ids' })).toEqual([]);
    expect(detectCredentials({ id: 'XAKIAIOSFODNN7EXAMPLE' })).toEqual([]);
    expect(detectCredentials({ id: 'AKIAIOSFODNN7EXAMPLE1' })).toEqual([]);
    expect(detectCredentials({ pem: '-----BEGIN PUBLIC KEY-----' })).toEqual([]);
    expect(detectCredentials({ pem: '-----BEGIN CERTIFICATE-----' })).toEqual([]);
  });

  it('splits member names into words', () => {
    expect(nameWords('clientSecretValue')).toEqual(['client', 'secret', 'value']);
    expect(nameWords('API_KEY')).toEqual(['api', 'key']);
    expect(nameWords('OAuthToken')).toEqual(['o', 'auth', 'token']);
    expect(isCredentialName('OAuthToken')).toBe(true);
    expect(isCredentialName('')).toBe(false);
  });
});
