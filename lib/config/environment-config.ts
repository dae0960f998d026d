import { z } from 'zod';

/** The cdk.json context key that holds every environment's settings. */
export const ENVIRONMENTS_CONTEXT_KEY = 'modelship:environments';

/** The context key that narrows synthesis to some environments (`-c env=dev,staging`). */
export const ENVIRONMENT_SELECTOR_CONTEXT_KEY = 'env';

/** A schema whose every failure says the same rule, so messages stay one sentence. */
function withRule<T extends z.ZodType>(rule: string, build: (error: { error: string }) => T): T {
  return build({ error: rule });
}

function integerBetween(min: number, max: number) {
  return withRule(`must be an integer between ${min} and ${max}`,
    (e) => z.number(e).int(e).min(min, e).max(max, e));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((v) => `'${v}'`).join(', ')}` });
}

/** An object that rejects unknown keys and names the keys it allows. */
function section<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).map((k) => `'${k}'`).join(', ');
  return z.strictObject(shape, {
    error: (issue) => issue.code === 'unrecognized_keys'
      ? `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (allowed: ${allowed})`
      : 'must be an object',
  });
}

const accountId = withRule('must be a 12-digit AWS account id', (e) => z.string(e).regex(/^\d{12}$/, e));

const region = withRule("must be an AWS region name such as 'eu-west-1'",
  (e) => z.string(e).regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, e));

const registrySchema = section({
  /** What happens to the registry's buckets and key when the stack is deleted. */
  removal: oneOf(['retain', 'destroy'] as const).default('retain'),
  /** Days a replaced or deleted artifact version is kept before S3 expires it. */
  noncurrentVersionExpirationDays: integerBetween(1, 3650).default(90),
  /** Accounts (staging, prod) allowed to read models from this environment's registry. */
  readerAccounts: z.array(accountId, { error: 'must be a list of 12-digit AWS account ids' }).default([]),
});

const environmentSchema = section({
  /** What the environment is for, shown in stack descriptions. */
  description: z.string({ error: 'must be a string' }).optional(),
  /** Account to deploy to; the stacks are environment-agnostic when absent. */
  account: accountId.optional(),
  /** Region to deploy to; the stacks are environment-agnostic when absent. */
  region: region.optional(),
  /** Production environments get stricter defaults and checks. */
  production: z.boolean({ error: 'must be true or false' }).default(false),
  /** Model registry settings. */
  registry: registrySchema.prefault({}),
}).superRefine((env, ctx) => {
  if (env.production && env.registry.removal === 'destroy') {
    ctx.addIssue({
      code: 'custom',
      path: ['registry', 'removal'],
      input: env.registry.removal,
      message: "must be 'retain' in an environment marked production",
    });
  }
});

const ENVIRONMENT_NAME_RULE = 'lowercase letters, digits and hyphens, starting with a letter, at most 32 characters';

/** Every environment's settings, keyed by environment name. */
export const environmentsSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), environmentSchema, {
  error: (issue) => issue.code === 'invalid_key'
    ? `has an invalid name: use ${ENVIRONMENT_NAME_RULE}`
    : 'must be an object with one entry per environment',
}).refine((envs) => Object.keys(envs).length > 0, { error: 'must declare at least one environment' });

/** One environment's validated settings, with defaults applied. */
export type EnvironmentSettings = z.output<typeof environmentSchema>;

/** One environment: its name and validated settings. */
export interface EnvironmentConfig extends EnvironmentSettings {
  /** The environment's name, also its Stage id (`dev`, `staging`, `prod`). */
  readonly name: string;
}
