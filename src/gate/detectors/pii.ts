/**
 * T6 — personal data in classes that must be PII-free (SPEC §5, `piiFree` in the policy):
 * e-mail addresses, phone numbers and payment card numbers that pass the Luhn check. Every
 * pattern runs in time linear in the text (bounded quantifiers, no nested repetition), so a long
 * string cannot stall the gate.
 */
import type { Threat } from '../../domain/decision.js';
import { detectWith, pointerOf, type Findings, type Visitor } from './walk.js';

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$/;

/**
 * Whether `text` holds an e-mail address. Found from each `@` outwards within RFC 5321 lengths
 * (64-byte local part, 255-byte domain) instead of by one regular expression over the whole text.
 */
export function containsEmail(text: string): boolean {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text.charAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && end - at <= 255 && DOMAIN_CHAR.test(text.charAt(end))) end++;
    const local = text.slice(start, at).replace(/^\.+/, '');
    const domain = text.slice(at + 1, end).replace(/\.+$/, '');
    if (local !== '' && DOMAIN.test(domain)) return true;
  }
  return false;
}

/** International numbers: `+`, then 8–15 digits with single separators (E.164 lengths). */
const INTERNATIONAL_PHONE = /(?<![\w+])\+\d(?:[ .-]?\(?\d\)?){7,14}(?![\w])/;
/** North American style: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567. */
const NANP_PHONE = /(?<![\w.-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/;
/** Trunk-prefix national style: 030 1234567, 020 7946 0958, 0151-1234-5678. */
const NATIONAL_PHONE = /(?<![\w.-])0\d{2,4}[ -]\d{3,8}(?:[ -]\d{2,6})?(?![\w]|[.-]\d)/;

export function containsPhone(text: string): boolean {
  return INTERNATIONAL_PHONE.test(text) || NANP_PHONE.test(text) || NATIONAL_PHONE.test(text);
}

/** The Luhn (mod 10) check of a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Issuer prefixes and lengths of the major card schemes (Visa, Mastercard, Amex, Discover, JCB,
 * Diners, UnionPay): a Luhn-valid 13-digit millisecond timestamp is not a card.
 */
const CARD_ISSUER =
  /^(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9]|[3-6]\d|7[01])\d{13}|2720\d{12}|3[47]\d{13}|3(?:0[0-5]|[689]\d)\d{11,16}|6(?:011|5\d{2}|4[4-9]\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}|62\d{14,17})$/;
const CARD_CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

export function isCardNumber(digits: string): boolean {
  return CARD_ISSUER.test(digits) && luhnValid(digits);
}

export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(CARD_CANDIDATE)) {
    if (isCardNumber(match[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}

/** Whether `text` has at least `wanted` digits (phone numbers and cards have 8 or more). */
function hasDigits(text: string, wanted: number): boolean {
  let found = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57 && ++found >= wanted) return true;
  }
  return false;
}

/** The kind of personal data in `text`, or null. */
export function piiIn(text: string): string | null {
  if (text.includes('@') && containsEmail(text)) return 'an e-mail address';
  if (!hasDigits(text, 8)) return null;
  if (containsCardNumber(text)) return 'a payment card number';
  if (containsPhone(text)) return 'a phone number';
  return null;
}

export function piiVisitor(findings: Findings): Visitor {
  return (node) => {
    if (findings.full) return;
    const { key, value } = node;
    // Personal data can be a member name too (contacts keyed by e-mail address).
    if (key !== null && node.parent !== null && !Array.isArray(node.parent.value)) {
      const inName = piiIn(key);
      // The pointer would repeat the name: the parent's says where without saying what.
      if (inName !== null) {
        findings.add(`${inName} in a member name of ${pointerOf(node.parent) || '/'}`);
      }
    }
    let kind: string | null = null;
    if (typeof value === 'string') kind = piiIn(value);
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) {
      kind = isCardNumber(String(value)) ? 'a payment card number' : null;
    }
    if (kind !== null) findings.add(`${kind} at ${pointerOf(node) || '/'}`);
  };
}

export function detectPii(json: unknown): Threat[] {
  return detectWith(json, piiVisitor, 'T6');
}
