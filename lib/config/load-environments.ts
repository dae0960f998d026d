import { z } from 'zod';
import { formatValue, ModelshipError } from '../runtime/errors';
import {
  ENVIRONMENT_SELECTOR_CONTEXT_KEY,
  ENVIRONMENTS_CONTEXT_KEY,
  EnvironmentConfig,
  environmentsSchema,
} from './environment-config';

function describeIssue(issue: z.core.$ZodIssue): string {
  const [environment, ...keys] = issue.path;
  const key = keys.map((k, i) => typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`).join('');
  const where = environment === undefined
    ? `context '${ENVIRONMENTS_CONTEXT_KEY}'`
    : key === ''
      ? `environment '${String(environment)}'`
      : `environment '${String(environment)}': '${key}'`;
  if (issue.code === 'unrecognized_keys' || issue.code === 'invalid_key') {
    return `${where} ${issue.message}`;
  }
  return `${where} ${issue.message}, got ${formatValue(issue.input)}`;
}

/**
 * Validates the environments declared in cdk.json context and applies their defaults.
 *
 * @param raw the value of the `modelship:environments` context key
 * @throws ModelshipError naming, for each problem, the environment, the key, the rule and the value found
 */
export function parseEnvironments(raw: unknown): EnvironmentConfig[] {
  if (raw === undefined) {
    throw new ModelshipError('Invalid environment config',
      [`context '${ENVIRONMENTS_CONTEXT_KEY}' is missing: declare the environments in cdk.json`]);
  }
  const result = environmentsSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ModelshipError('Invalid environment config', result.error.issues.map(describeIssue));
  }
  return Object.entries(result.data).map(([name, settings]) => ({ name, ...settings }));
}

/**
 * Narrows the environments to those named by the `env` context (`-c env=dev` or `-c env=dev,prod`).
 *
 * @param selector the value of the `env` context key; every environment when absent
 * @throws ModelshipError when a name is not a declared environment, listing the known ones
 */
export function selectEnvironments(environments: readonly EnvironmentConfig[], selector?: unknown): EnvironmentConfig[] {
  if (selector === undefined) {
    return [...environments];
  }
  const known = environments.map((e) => e.name);
  const names = String(selector).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = names.filter((n) => !known.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new ModelshipError(`Invalid context '${ENVIRONMENT_SELECTOR_CONTEXT_KEY}'`, [
      `unknown environment ${formatValue(names.length === 0 ? selector : unknown.join(','))}; known environments: ${known.join(', ')}`,
    ]);
  }
  return environments.filter((e) => names.includes(e.name));
}
