/**
 * T1 — credential material in JSON content (SPEC §5): members named like a password, secret,
 * API key, private key or token that hold a non-empty string; AWS access key ids; PEM private
 * key headers. Evidence names where, never the secret itself.
 */
import type { Threat } from '../../domain/decision.js';
import { detectWith, pointerOf, type Findings, type Visitor } from './walk.js';

/** Words that make a member a credential when they end its name (`db_password`, `apiToken`). */
const CREDENTIAL_NOUNS = new Set(['password', 'passwd', 'passphrase', 'secret', 'token']);
/** Two-word endings (`api_key`, `privateKey`, `secret-key`, `access_key`). */
const CREDENTIAL_PAIRS = new Set(['api key', 'private key', 'secret key', 'access key']);
/** One-word spellings of the pairs. */
const CREDENTIAL_WORDS = new Set(['apikey', 'privatekey', 'secretkey', 'accesskey']);

/** Cheap pre-filter: every credential name contains one of these. */
const CREDENTIAL_HINT = /pass|secret|token|key/i;
/**
 * Member names repeat across a document and across requests, so verdicts are memoised; short
 * names only, and a bounded number of them, so that hostile documents cannot grow the cache.
 */
const MAX_CACHED_NAMES = 10_000;
const MAX_CACHED_NAME_LENGTH = 64;
const verdicts = new Map<string, boolean>();

export const AWS_ACCESS_KEY_ID = /(?<![0-9A-Z])AKIA[0-9A-Z]{16}(?![0-9A-Z])/;
export const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

/** The words of a member name: camelCase, snake_case, kebab-case, dotted or spaced. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/**
 * Whether a member name names credential material: its last word is a credential noun, or its
 * last two words a credential pair. `passwordPolicy` and `tokenCount` are not; `client_secret`,
 * `accessToken` and `API_KEY` are.
 */
export function isCredentialName(name: string): boolean {
  if (!CREDENTIAL_HINT.test(name)) return false;
  if (name.length > MAX_CACHED_NAME_LENGTH) return credentialWords(nameWords(name));
  let known = verdicts.get(name);
  if (known === undefined) {
    known = credentialWords(nameWords(name));
    if (verdicts.size >= MAX_CACHED_NAMES) verdicts.clear();
    verdicts.set(name, known);
  }
  return known;
}

function credentialWords(words: readonly string[]): boolean {
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (CREDENTIAL_NOUNS.has(last) || CREDENTIAL_WORDS.has(last)) return true;
  return words.length >= 2 && CREDENTIAL_PAIRS.has(`${words[words.length - 2]} ${last}`);
}

/** Credential material found in a string, by kind, or null. */
export function credentialInText(text: string): string | null {
  if (text.includes('AKIA') && AWS_ACCESS_KEY_ID.test(text)) return 'an AWS access key id';
  if (text.includes('PRIVATE KEY') && PEM_PRIVATE_KEY.test(text)) return 'a PEM private key';
  return null;
}

export function credentialVisitor(findings: Findings): Visitor {
  return (node) => {
    if (findings.full || typeof node.value !== 'string') return;
    if (node.key !== null && node.parent !== null && !Array.isArray(node.parent.value)) {
      if (node.value !== '' && isCredentialName(node.key)) {
        findings.add(`credential member "${node.key}" at ${pointerOf(node)}`);
        return;
      }
    }
    const kind = credentialInText(node.value);
    if (kind !== null) findings.add(`${kind} at ${pointerOf(node) || '/'}`);
  };
}

export function detectCredentials(json: unknown): Threat[] {
  return detectWith(json, credentialVisitor, 'T1');
}
