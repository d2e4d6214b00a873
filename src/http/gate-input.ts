/**
 * Reading the seed-compatible gate requests (SPEC §4.2): a JSON body with camelCase or snake_case
 * names, or the original query-parameter form. A missing or mistyped field is a 400 naming it.
 */
import { BucketError } from '../domain/errors.js';
import type { IntegrationProposal } from '../domain/integration.js';
import { OPERATIONS, type Operation } from '../domain/policy.js';

type Source = Readonly<Record<string, unknown>>;

function asSource(value: unknown): Source {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Source)
    : {};
}

/** A field by its camelCase or snake_case name, from the body first, else the query. */
function field(body: Source, query: Source, camel: string, snake: string) {
  for (const [source, fromQuery] of [
    [body, false],
    [query, true],
  ] as const) {
    for (const name of [camel, snake]) {
      if (source[name] !== undefined) return { value: source[name], fromQuery };
    }
  }
  return undefined;
}

class FieldProblems {
  private readonly problems: { field: string; problem: string }[] = [];

  add(name: string, problem: string): void {
    this.problems.push({ field: name, problem });
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    throw new BucketError(
      'invalid_request',
      this.problems.map((p) => `${p.field} ${p.problem}`).join('; '),
      { details: { fields: this.problems } },
    );
  }
}

function text(
  body: Source,
  query: Source,
  camel: string,
  snake: string,
  problems: FieldProblems,
): string {
  const found = field(body, query, camel, snake);
  if (found === undefined) problems.add(camel, 'is missing');
  else if (typeof found.value !== 'string' || found.value === '') {
    problems.add(camel, 'must be a non-empty string');
  } else return found.value;
  return '';
}

function stringList(found: { value: unknown; fromQuery: boolean }): string[] | null {
  let value = found.value;
  if (found.fromQuery && typeof value === 'string') {
    value = value.trim().startsWith('[') ? safeJson(value) : value.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return null;
  return value as string[];
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** Integration ids appear in paths (`/v1/integrations/{id}`) and key records. */
const INTEGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function readProposal(rawBody: unknown, rawQuery: unknown): IntegrationProposal {
  const body = asSource(rawBody);
  const query = asSource(rawQuery);
  const problems = new FieldProblems();
  const integrationId = text(body, query, 'integrationId', 'integration_id', problems);
  if (integrationId !== '' && !INTEGRATION_ID.test(integrationId)) {
    problems.add('integrationId', 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"');
  }
  const integrationType = text(body, query, 'integrationType', 'integration_type', problems);
  const productName = text(body, query, 'productName', 'product_name', problems);
  let artifactClasses: string[] = [];
  const classes = field(body, query, 'artifactClasses', 'artifact_classes');
  if (classes === undefined) problems.add('artifactClasses', 'is missing');
  else {
    const list = stringList(classes);
    if (list === null) problems.add('artifactClasses', 'must be an array of strings');
    else artifactClasses = list;
  }
  let dataSchema: Record<string, unknown> = {};
  const schema = field(body, query, 'dataSchema', 'data_schema');
  if (schema === undefined) problems.add('dataSchema', 'is missing');
  else {
    const value =
      schema.fromQuery && typeof schema.value === 'string' ? safeJson(schema.value) : schema.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.add('dataSchema', 'must be a JSON object');
    } else dataSchema = value as Record<string, unknown>;
  }
  problems.throwIfAny();
  return { integrationId, integrationType, productName, artifactClasses, dataSchema };
}

export interface OperationProposal {
  readonly integrationId: string;
  readonly operationType: Operation;
  readonly artifactClass: string;
  readonly dataSize: number;
  readonly product: string | null;
}

export function readOperation(rawBody: unknown, rawQuery: unknown): OperationProposal {
  const body = asSource(rawBody);
  const query = asSource(rawQuery);
  const problems = new FieldProblems();
  const integrationId = text(body, query, 'integrationId', 'integration_id', problems);
  const operation = text(body, query, 'operationType', 'operation_type', problems);
  if (operation !== '' && !(OPERATIONS as readonly string[]).includes(operation)) {
    problems.add('operationType', `must be one of ${OPERATIONS.join(', ')}`);
  }
  const artifactClass = text(body, query, 'artifactClass', 'artifact_class', problems);
  let dataSize = 0;
  const size = field(body, query, 'dataSize', 'data_size');
  if (size === undefined) problems.add('dataSize', 'is missing');
  else {
    const value =
      size.fromQuery && typeof size.value === 'string' && /^\d{1,15}$/.test(size.value)
        ? Number(size.value)
        : size.value;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      problems.add('dataSize', 'must be a non-negative integer');
    } else dataSize = value;
  }
  let product: string | null = null;
  const claimed = field(body, query, 'product', 'product');
  if (claimed !== undefined && claimed.value !== null) {
    if (typeof claimed.value !== 'string') problems.add('product', 'must be a string');
    else product = claimed.value;
  }
  problems.throwIfAny();
  return {
    integrationId,
    operationType: operation as Operation,
    artifactClass,
    dataSize,
    product,
  };
}
