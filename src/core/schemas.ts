/**
 * JSON Schema checks of Core (SPEC §11): agents' inputs and outputs, basket configs and agent
 * specs. One ajv instance; each schema compiled once (by its canonical text: an agent_spec read
 * again compiles nothing new), a schema ajv cannot compile is an error of its own.
 */
import type { ValidateFunction } from 'ajv';
import { compileGiven, untrustedSchemaAjv } from '../policy/linear-regexp.js';
import type { JsonSchema } from './agents/types.js';

const ajv = untrustedSchemaAjv({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();
/** Compiled schemas kept at most (agent specs come and go; built-ins stay). */
const MAX_COMPILED = 1000;

/** A schema that cannot be compiled (an agent_spec's), with ajv's reason. */
export class SchemaInvalid extends Error {}

function validatorOf(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    try {
      validate = compileGiven(ajv, schema as Record<string, unknown>);
    } catch (error) {
      throw new SchemaInvalid((error as Error).message);
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, validate);
  }
  return validate;
}

/** Whether `schema` compiles; the reason when it does not. */
export function schemaProblem(schema: JsonSchema): string | null {
  try {
    validatorOf(schema);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The value's errors against the schema as `<JSON pointer> <message>` lines; null: it conforms. */
export function schemaErrors(schema: JsonSchema, value: unknown): string | null {
  const validate = validatorOf(schema);
  if (validate(value)) return null;
  return (validate.errors ?? [])
    .slice(0, 10)
    .map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`)
    .join('; ');
}
