import { describe, expect, it } from 'vitest';
import {
  containsCardNumber,
  containsEmail,
  containsPhone,
  detectPii,
  luhnValid,
} from '../../../../src/gate/detectors/pii.js';

describe('pii detector (T6)', () => {
  it.each(['jane.doe@example.com', 'write to ops+alerts@mail.example.co.uk today', 'A@B.IO'])(
    'finds the e-mail address in %s',
    (text) => expect(containsEmail(text)).toBe(true),
  );

  it.each(['@handle', 'user@localhost', 'a@b', 'x @ y.com', 'foo@.com', 'name@domain.c0m', '@@@'])(
    'lets %s through as no e-mail address',
    (text) => expect(containsEmail(text)).toBe(false),
  );

  it.each([
    '+1 555 123 4567',
    '+49 30 1234567',
    '+44 (0)20 7946 0958',
    '+14155552671',
    'call (555) 123-4567',
    '555-123-4567',
    '555.123.4567',
    '030 1234567',
    '020 7946 0958',
  ])('finds the phone number in %s', (text) => expect(containsPhone(text)).toBe(true));

  it.each([
    '1.2.3',
    'v10.20.30',
    '192.168.100.200',
    '2026-11-27',
    '2026-11-27T20:00:00.000Z',
    '+5',
    'release 4.12.1-rc.3',
    '123e4567-e89b-12d3-a456-426614174000',
    'chapter 555',
    '12345',
  ])('lets %s through as no phone number', (text) => expect(containsPhone(text)).toBe(false));

  it('checks card numbers with Luhn and an issuer prefix', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(containsCardNumber('card 4111 1111 1111 1111 exp 12/29')).toBe(true);
    expect(containsCardNumber('4111-1111-1111-1111')).toBe(true);
    expect(containsCardNumber('378282246310005')).toBe(true); // Amex
    expect(containsCardNumber('5555555555554444')).toBe(true); // Mastercard
    // 16 digits failing Luhn; a Luhn-valid number with no card issuer prefix (a ms timestamp).
    expect(containsCardNumber('4111111111111112')).toBe(false);
    expect(luhnValid('1764273600007')).toBe(true);
    expect(containsCardNumber('1764273600007')).toBe(false);
    expect(containsCardNumber('41111111111111110')).toBe(false); // 17 digits, Luhn fails
  });

  it('walks the document and reports where, not what', () => {
    const threats = detectPii({
      persona: { contact: 'jane@example.com', bio: ['call +1 555 123 4567'] },
      card: 4111111111111111,
      version: '1.2.3',
      notCard: '4111111111111112',
    });
    expect(threats.map((t) => t.id)).toEqual(['T6', 'T6', 'T6']);
    expect(threats.map((t) => t.evidence)).toEqual([
      'an e-mail address at /persona/contact',
      'a phone number at /persona/bio/0',
      'a payment card number at /card',
    ]);
    expect(threats.join(' ')).not.toContain('jane@');
  });

  it('finds personal data in member names too, saying where but not what', () => {
    const threats = detectPii({ contacts: { 'jane@example.com': { since: 2024 } } });
    expect(threats.map((t) => t.evidence)).toEqual([
      'an e-mail address in a member name of /contacts',
    ]);
    expect(JSON.stringify(threats)).not.toContain('jane');
  });

  it('lets PII-free persona content through', () => {
    expect(
      detectPii({
        name: 'Aria',
        tone: 'warm',
        version: '2.1.0',
        temperature: 0.7,
        maxTokens: 4096,
        createdAt: '2026-11-27T20:00:00.000Z',
      }),
    ).toEqual([]);
  });

  it('stays fast on long hostile strings', () => {
    const started = Date.now();
    detectPii({
      a: 'a'.repeat(200_000) + '@',
      b: '1 '.repeat(100_000),
      c: '+1'.repeat(100_000),
      d: ('x'.repeat(63) + '@').repeat(3000),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
