/**
 * The regular expressions of schemas the Bucket does not write itself — class schemas of the
 * policy (SPEC §2), agents' input and output schemas (SPEC §11) — matched in linear time by RE2's
 * algorithm (`re2js`), never by V8's backtracking engine. A pattern such as `^(a|a)*$` given a
 * 40-character string would hold the event loop for hours there, and every request with it.
 *
 * JSON Schema patterns are ECMA-262 regular expressions: each is translated to RE2's syntax with
 * JavaScript's meaning kept — `\uXXXX` escapes (re2js's translation), `\s`/`\S` as JavaScript's
 * whitespace (RE2's is ASCII), `.` excluding every line terminator (RE2's excludes `\n` only) — so
 * that a schema refuses what it refused before. RE2 has no lookaround and no backreferences: a
 * schema that uses them does not compile, and is refused when it is given (400), with RE2's
 * reason. (`\S` inside a bracket class keeps RE2's ASCII meaning: RE2 has no class subtraction.)
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/** ECMA-262's WhiteSpace and LineTerminator code points (what `\s` matches), in RE2's syntax. */
const JS_SPACE =
  '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}' +
  '\\x{205f}\\x{3000}\\x{feff}';
/** What `.` matches in JavaScript without the `s` flag. */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';

/** An ECMA-262 pattern (re2js's translation first) in RE2's syntax, with JavaScript's meaning. */
export function toRe2(pattern: string): string {
  const source = RE2JS.translateRegExp(pattern) as string;
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (ch === '\\' && i + 1 < source.length) {
      const next = source[i + 1] as string;
      i++;
      if (next === 's') out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${JS_SPACE}]`;
      else out += ch + next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
      // A `]` first in a class (or after `^`) is a literal in RE2, never its end.
      if (source[i + 1] === '^') out += source[++i];
      if (source[i + 1] === ']') out += source[++i];
    } else out += ch === '.' ? JS_DOT : ch;
  }
  return out;
}

/** Ajv's `code.regExp`: a pattern compiled by RE2 (`u`, Ajv's unicode flag, is RE2's default). */
export const linearRegExp: RegExpEngine = Object.assign(
  // Ajv keys the patterns it compiled by their toString(): the pattern as given.
  (pattern: string) => {
    const compiled = RE2JS.compile(toRe2(pattern));
    return { test: (text: string) => compiled.test(text), toString: () => pattern };
  },
  { code: 'linearRegExp' },
);

/** An Ajv instance for schemas given to the Bucket: their patterns matched in linear time. */
export function untrustedSchemaAjv(options: Options = {}): Ajv {
  return new Ajv({ ...options, code: { ...options.code, regExp: linearRegExp } });
}

/** Every `$id` a schema declares, at any depth. */
function idsOf(schema: unknown, found: string[] = []): string[] {
  if (Array.isArray(schema)) for (const item of schema) idsOf(item, found);
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$id' && typeof value === 'string') found.push(value);
      else idsOf(value, found);
    }
  }
  return found;
}

/**
 * Compiles a given schema on a long-lived Ajv instance. Ajv keeps every schema it compiled by its
 * `$id` and refuses another with the same one: a class schema with an `$id` would make the next
 * policy version (and every later check of the live one) fail to compile. The schemas compiled
 * before under those ids are forgotten first; their compiled validators keep working.
 */
export function compileGiven(ajv: Ajv, schema: object): ValidateFunction {
  for (const id of idsOf(schema)) ajv.removeSchema(id);
  return ajv.compile(schema);
}
