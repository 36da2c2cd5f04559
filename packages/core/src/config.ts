import { Ajv, type JSONSchemaType } from 'ajv';
import { CdpError } from './errors.js';

/**
 * Validates environment-style input against a JSON Schema once: defaults are
 * applied, strings are coerced to the schema's types, unknown keys with the
 * given prefixes are refused, and every problem is reported together. The
 * result is frozen.
 */
export function loadConfig<T>(
  schema: JSONSchemaType<T>,
  env: Record<string, string | undefined>,
  opts: { ownPrefixes?: readonly string[]; known?: readonly string[] } = {},
): Readonly<T> {
  const ajv = new Ajv({
    useDefaults: true,
    coerceTypes: true,
    allErrors: true,
    removeAdditional: true,
  });
  const validate = ajv.compile(schema);
  const props = Object.keys((schema as { properties?: object }).properties ?? {});
  const known = new Set([...props, ...(opts.known ?? [])]);
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    if (props.includes(k)) input[k] = v;
    else if (opts.ownPrefixes?.some((p) => k.startsWith(p)) && !known.has(k)) {
      problems.push(`${k}: unknown setting (known: ${props.join(', ')})`);
    }
  }
  if (!validate(input)) {
    for (const e of validate.errors ?? []) {
      const key =
        e.instancePath.replace(/^\//, '') ||
        String((e.params as { missingProperty?: string }).missingProperty ?? '');
      problems.push(`${key}: ${e.message ?? 'invalid'}`);
    }
  }
  if (problems.length > 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Invalid configuration:\n  - ${problems.join('\n  - ')}`,
      field: problems.map((p) => p.split(':')[0]).join(','),
    });
  }
  return Object.freeze(input as T);
}
export type { JSONSchemaType } from 'ajv';
