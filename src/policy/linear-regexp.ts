/**
 * The regular expressions of schemas the Bucket does not write itself — class schemas of the
 * policy (SPEC §2), agents' input and output schemas (SPEC §11) — matched in linear time by RE2's
 * algorithm (`re2js`), never by V8's backtracking engine. A pattern such as `^(a|a)*$` given a
 * 40-character string would hold the event loop for hours there, and every request with it. RE2
 * has no lookaround and no backreferences: a schema that uses them does not compile, and is
 * refused when it is given (400), with RE2's reason.
 */
import { Ajv, type Options } from 'ajv';
import { RE2JS } from 're2js';

/** Ajv's `code.regExp`: a pattern compiled by RE2 (`u`, Ajv's unicode flag, is RE2's default). */
type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

export const linearRegExp: RegExpEngine = Object.assign(
  // RE2JS's own object: Ajv keys compiled patterns by their toString(), which is the pattern's.
  (pattern: string) => RE2JS.compile(pattern),
  { code: 'linearRegExp' },
);

/** An Ajv instance for schemas given to the Bucket: their patterns matched in linear time. */
export function untrustedSchemaAjv(options: Options = {}): Ajv {
  return new Ajv({ ...options, code: { ...options.code, regExp: linearRegExp } });
}
