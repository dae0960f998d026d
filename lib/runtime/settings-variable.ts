import * as z from 'zod/mini';

/**
 * Reads the JSON settings a construct passed a handler in one environment variable. A missing
 * or invalid value is a deployment error, so it throws, naming each bad field.
 */
export function settingsFromVariable<T>(env: Readonly<Record<string, string | undefined>>, variable: string, schema: z.ZodMiniType<T>): T {
  const raw = env[variable];
  if (!raw) {
    throw new Error(`${variable} is not set`);
  }
  const parsed = z.safeParse(schema, JSON.parse(raw));
  if (!parsed.success) {
    throw new Error(`${variable} is invalid: ${parsed.error.issues.map((i) => `'${i.path.join('.')}' ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
