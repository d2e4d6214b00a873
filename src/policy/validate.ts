/** Validation of a policy document: the JSON Schema, then the cross-references between sections. */
import { Ajv } from 'ajv';
import { parseEgressEntry } from '../domain/egress.js';
import { ruleOf, type PolicyDocument } from '../domain/policy.js';
import { walkJson, WALK_LIMITS } from '../gate/detectors/walk.js';
import { compileGiven, untrustedSchemaAjv } from './linear-regexp.js';
import { hasInPlaceCycle } from './schema-cycles.js';
import { policySchema } from './schema.js';

export interface PolicyError {
  /** JSON Pointer (RFC 6901) of the offending value, `""` for the document itself. */
  readonly path: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(policySchema);
const schemaCompiler = untrustedSchemaAjv({ allErrors: true, strict: false });

function pointer(...segments: string[]): string {
  return segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

const SELF_REFERENCE =
  'refers to itself without end (a $ref cycle that does not descend into the data)';

/** Values every class schema is tried on once: a schema that recurses on them never ends. */
const PROBES: readonly unknown[] = [{}, [], '', 0, null, true, { a: {} }, [[]]];

/**
 * What is wrong with a class schema, or null. Hashing, diffing and compiling it recurse: nesting
 * past the content bounds (WALK_LIMITS) would overflow the stack; and a `$ref` cycle that does
 * not descend into the data (`{"$ref": "#"}`) would overflow on every write of the class, each a
 * fail-closed 503 — both are the owner's input, refused here with 400.
 */
function classSchemaProblem(schema: object): string | null {
  if (!walkJson(schema, () => undefined).complete) {
    return (
      `nested deeper than ${WALK_LIMITS.maxDepth} levels or holding more than ` +
      `${WALK_LIMITS.maxNodes} values`
    );
  }
  if (hasInPlaceCycle(schema)) return SELF_REFERENCE;
  let validate: (data: unknown) => unknown;
  try {
    validate = compileGiven(schemaCompiler, schema);
  } catch (error) {
    return `not a valid JSON Schema: ${(error as Error).message}`;
  }
  try {
    for (const probe of PROBES) validate(probe);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return SELF_REFERENCE;
  }
  return null;
}

function crossReferenceErrors(doc: PolicyDocument): PolicyError[] {
  const errors: PolicyError[] = [];
  const rejected = new Set(doc.rejectedClasses);
  for (const [productId, product] of Object.entries(doc.products)) {
    product.allowedClasses.forEach((classId, i) => {
      const path = pointer('products', productId, 'allowedClasses', String(i));
      if (!ruleOf(doc.classes, classId)) {
        errors.push({ path, message: `unknown class "${classId}"` });
      }
      if (rejected.has(classId)) {
        errors.push({ path, message: `class "${classId}" is rejected everywhere` });
      }
      if (product.forbiddenClasses.includes(classId)) {
        errors.push({ path, message: `class "${classId}" is also forbidden for this product` });
      }
    });
  }
  for (const [classId, rule] of Object.entries(doc.classes)) {
    if (rule.schema !== null) {
      const problem = classSchemaProblem(rule.schema);
      if (problem !== null) {
        errors.push({ path: pointer('classes', classId, 'schema'), message: problem });
      }
    }
    if (rule.maxBytes !== null && rule.maxBytes > doc.limits.maxArtifactBytes) {
      errors.push({
        path: pointer('classes', classId, 'maxBytes'),
        message: 'exceeds limits.maxArtifactBytes',
      });
    }
  }
  doc.egress?.allow.forEach((text, i) => {
    const entry = parseEgressEntry(text);
    if ('error' in entry) {
      errors.push({ path: pointer('egress', 'allow', String(i)), message: entry.error });
    }
  });
  return errors;
}

/** Returns every problem found in `candidate`; an empty list means it is a valid policy. */
export function policyErrors(candidate: unknown): PolicyError[] {
  if (!validateShape(candidate)) {
    return (validateShape.errors ?? []).map((error) => {
      if (error.keyword !== 'additionalProperties') {
        return { path: error.instancePath, message: error.message ?? 'invalid' };
      }
      // The path of the field itself, not of the object holding it: where the typo is.
      const field = String(error.params['additionalProperty']);
      return { path: error.instancePath + pointer(field), message: `unknown field "${field}"` };
    });
  }
  return crossReferenceErrors(candidate as PolicyDocument);
}
