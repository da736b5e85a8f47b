/**
 * A JSON Schema (draft 2020-12) validator for the keywords the generated event schemas
 * use, so that tests can check sample events against them without adding a dependency.
 * Any keyword it does not know throws: it can never pass a document by ignoring a rule.
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type',
  'const',
  'enum',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'properties',
  'required',
  'additionalProperties',
  'allOf',
  'if',
  'then',
]);

/** Every keyword used anywhere in `schema`. */
export function keywordsOf(schema: Schema, into = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(schema)) {
    into.add(k);
    if (k === 'properties') for (const sub of Object.values(v as Record<string, Schema>)) keywordsOf(sub, into);
    else if (k === 'allOf') for (const sub of v as Schema[]) keywordsOf(sub, into);
    else if ((k === 'if' || k === 'then' || k === 'additionalProperties') && typeof v === 'object' && v !== null) keywordsOf(v as Schema, into);
  }
  return into;
}

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      throw new Error(`json-schema-subset: unknown type ${type}`);
  }
}

/** The paths and keywords `value` violates; empty when it is valid. */
export function validate(schema: Schema | boolean, value: unknown, path = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path || '(root)'}: false schema`];
  const errors: string[] = [];
  const here = path || '(root)';
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema-subset: keyword ${k} is not supported`);
  if (schema.type !== undefined && !typeOk(schema.type as string, value)) return [`${here}: type ${String(schema.type)}`];
  if ('const' in schema && value !== schema.const) errors.push(`${here}: const`);
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value)) errors.push(`${here}: enum`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < (schema.minLength as number)) errors.push(`${here}: minLength`);
    if (schema.maxLength !== undefined && [...value].length > (schema.maxLength as number)) errors.push(`${here}: maxLength`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern as string, 'u').test(value)) errors.push(`${here}: pattern`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && !(value >= (schema.minimum as number))) errors.push(`${here}: minimum`);
    if (schema.maximum !== undefined && !(value <= (schema.maximum as number))) errors.push(`${here}: maximum`);
    if (schema.exclusiveMinimum !== undefined && !(value > (schema.exclusiveMinimum as number))) errors.push(`${here}: exclusiveMinimum`);
    if (schema.exclusiveMaximum !== undefined && !(value < (schema.exclusiveMaximum as number))) errors.push(`${here}: exclusiveMaximum`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errors.push(`${path ? `${path}.` : ''}${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = props[k];
      if (sub !== undefined) errors.push(...validate(sub, v, path ? `${path}.${k}` : k));
      else if (schema.additionalProperties !== undefined) errors.push(...validate(schema.additionalProperties as Schema | boolean, v, path ? `${path}.${k}` : k));
    }
  }
  for (const sub of (schema.allOf ?? []) as Schema[]) errors.push(...validate(sub, value, path));
  if (schema.if !== undefined && validate(schema.if as Schema, value, path).length === 0 && schema.then !== undefined) {
    errors.push(...validate(schema.then as Schema, value, path));
  }
  return errors;
}
