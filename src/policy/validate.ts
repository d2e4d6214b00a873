/** Validation of a policy document: the JSON Schema, then the cross-references between sections. */
import { Ajv } from 'ajv';
import { parseEgressEntry } from '../domain/egress.js';
import { ruleOf, type PolicyDocument } from '../domain/policy.js';
import { policySchema } from './schema.js';

export interface PolicyError {
  /** JSON Pointer (RFC 6901) of the offending value, `""` for the document itself. */
  readonly path: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(policySchema);
const schemaCompiler = new Ajv({ allErrors: true, strict: false });

function pointer(...segments: string[]): string {
  return segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
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
      try {
        schemaCompiler.compile(rule.schema);
      } catch (error) {
        errors.push({
          path: pointer('classes', classId, 'schema'),
          message: `not a valid JSON Schema: ${(error as Error).message}`,
        });
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
