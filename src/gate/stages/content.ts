/**
 * Stage 5 — content (SPEC §4.1): the media type a class accepts, the claims of the metadata
 * headers (reserved fields, retention, timestamps), and on the received body the JSON parse, the
 * JSON-object requirement, the class schema and the content detectors of SPEC §5
 * (src/gate/detectors/). First denial wins; every threat found is reported.
 */
import type { ValidateFunction } from 'ajv';
import { compileGiven, untrustedSchemaAjv } from '../../policy/linear-regexp.js';
import { ruleOf, type ClassRule } from '../../domain/policy.js';
import { threat, type Threat } from '../../domain/decision.js';
import type { PrincipalKind } from '../../domain/principal.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';
import { denialReasons, scanJsonContent, scanMeta, type Finding } from '../detectors/index.js';

export const JSON_MEDIA_TYPE = 'application/json';

const CONTENT_CLAIM_KINDS: ReadonlySet<PrincipalKind> = new Set(['product', 'ai_agent']);

/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | null): string | null {
  if (contentType === null) return null;
  const media = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return media === '' ? null : media;
}

/** The media types a class accepts, or null for any. */
export function acceptedMediaTypes(rule: ClassRule): readonly string[] | null {
  if (Array.isArray(rule.content)) return rule.content;
  if (rule.content === 'json' || rule.content === 'system') return [JSON_MEDIA_TYPE];
  return null;
}

const ajv = untrustedSchemaAjv({ allErrors: true, strict: false });
const compiledSchemas = new WeakMap<object, ValidateFunction>();

function schemaValidator(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiledSchemas.get(schema);
  if (!validate) {
    validate = compileGiven(ajv, schema);
    compiledSchemas.set(schema, validate);
  }
  return validate;
}

export function contentStage(ctx: GateContext): StageVerdict {
  if (ctx.action !== 'artifact.write' || ctx.class === null) return ALLOW;
  const rule = ruleOf(ctx.policy.document.classes, ctx.class);
  if (!rule) return ALLOW;
  const media = mediaTypeOf(ctx.contentType);
  const accepted = acceptedMediaTypes(rule);
  if (accepted !== null && (media === null || !accepted.includes(media))) {
    return deny('unsupported_media_type', [
      { rule: 'content_type', message: mediaTypeProblem(ctx.class, accepted, media) },
    ]);
  }
  // Claims of the metadata headers are judged before the body is read.
  const now = Date.now();
  const findings = scanMeta(ctx.meta, rule, now);
  const received = ctx.content;
  if (received && ctx.sha256Claim !== null && received.sha256 !== ctx.sha256Claim) {
    return deny(
      'sha256_mismatch',
      [{ rule: 'client_sha256', message: `the content's SHA-256 is ${received.sha256}` }],
      [
        threat('T7', `x-bucket-sha256 ${ctx.sha256Claim} does not match ${received.sha256}`),
        ...threatsOf(findings),
      ],
    );
  }
  const bytes = received?.bytes;
  if (!bytes || media !== JSON_MEDIA_TYPE) return verdictOf(findings);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return deny(
      'invalid_json',
      [{ rule: 'json_parse', message: jsonProblem(ctx.class, bytes, error as Error) }],
      threatsOf(findings),
    );
  }
  const objectRequired = rule.content === 'json' || rule.content === 'system';
  if (objectRequired && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
    return deny(
      'json_not_object',
      [{ rule: 'json_object', message: `class "${ctx.class}" stores a JSON object` }],
      threatsOf(findings),
    );
  }
  // SPEC §1: content claims are judged for product and ai_agent keys; Core's own contents (agent
  // specs, basket configurations) may name the products they work for.
  const claimsJudged = CONTENT_CLAIM_KINDS.has(ctx.principal.kind);
  findings.push(
    ...scanJsonContent(parsed, {
      ownProduct: claimsJudged ? (ctx.principal.product ?? '') : null,
      piiFree: rule.piiFree === true,
      now,
    }),
  );
  if (rule.schema !== null) {
    const validate = schemaValidator(rule.schema);
    if (!validate(parsed)) {
      const errors = validate.errors ?? [];
      return deny(
        'schema_violation',
        errors.map((error) => ({
          rule: 'class_schema',
          message: `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`,
        })),
        [
          threat(
            'T2',
            `content fails the schema of class "${ctx.class}" (${errors.length} errors)`,
          ),
          ...threatsOf(findings),
        ],
      );
    }
  }
  return verdictOf(findings);
}

/** Why the media type is refused, and the header that would be accepted. */
function mediaTypeProblem(
  className: string,
  accepted: readonly string[],
  media: string | null,
): string {
  const sent =
    media === null ? 'but no Content-Type header was sent (or it was empty)' : `not ${media}`;
  const example = accepted[0] ?? JSON_MEDIA_TYPE;
  return (
    `class "${className}" accepts ${accepted.join(', ')}, ${sent}: send the header ` +
    `"Content-Type: ${example}" (curl: -H 'Content-Type: ${example}')`
  );
}

/**
 * What is wrong with a body that is not JSON, in the user's terms and with where, when the parser
 * says where. The parser's own message is not repeated: V8's quotes the content, and a reason is
 * kept in the audit log forever (contents never are).
 */
function jsonProblem(className: string, bytes: Buffer, error: Error): string {
  const lead = `the body is not valid JSON, which class "${className}" stores`;
  const next = 'check it with `jq . FILE` and send the file whole (curl: --data-binary @FILE)';
  if (bytes.length === 0) return `${lead}: the body is empty; ${next}`;
  if (/unexpected end of json input/i.test(error.message)) {
    return (
      `${lead}: it ends before the JSON value is complete (cut short, or an unclosed ` +
      `bracket, brace or string); ${next}`
    );
  }
  const found = /^(.*?)(?: in JSON)? at position (\d+)/.exec(error.message);
  // A parser message that quotes the body is not repeated (see above).
  if (!found?.[1] || !found[2] || found[1].includes('"')) {
    return `${lead}: an unexpected character; ${next}`;
  }
  const position = Number(found[2]);
  const before = bytes.toString('utf8').slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const what = found[1].charAt(0).toLowerCase() + found[1].slice(1);
  return `${lead}: ${what} at line ${line}, column ${column} (character ${position}); ${next}`;
}

function threatsOf(findings: readonly Finding[]): Threat[] {
  return findings.flatMap((finding) => finding.threats);
}

/** 403 when a denying detector found something; otherwise allowed, with any claims recorded. */
function verdictOf(findings: readonly Finding[]): StageVerdict {
  const threats = threatsOf(findings);
  const reasons = denialReasons(findings);
  if (reasons.length > 0) return deny('forbidden', reasons, threats);
  return threats.length > 0 ? { threats } : ALLOW;
}
