import { z } from 'zod';
import { isPinnedImageReference, PINNED_IMAGE_RULE } from '../training/container-image';

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

/** Reports a rule that spans several keys, at the key that breaks it. */
function reject(ctx: z.core.$RefinementCtx, path: string[], input: unknown, message: string): void {
  ctx.addIssue({ code: 'custom', path, input, message });
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

const trainingSchema = section({
  /** The example model's registry name. */
  model: withRule('must be 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit',
    (e) => z.string(e).regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, e)).default('churn'),
  /** The training instance type. */
  instanceType: withRule('must be an instance type such as ml.g5.2xlarge',
    (e) => z.string(e).regex(/^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, e)).default('ml.g5.2xlarge'),
  /** Instances per job; more than one trains distributed. */
  instanceCount: integerBetween(1, 100).default(1),
  /** The job's time budget. */
  maxRuntimeHours: integerBetween(1, 672).default(16),
  /** Train on spot capacity, with checkpoints. */
  spot: z.boolean({ error: 'must be true or false' }).default(true),
  /** How long a spot job may wait for capacity plus run; twice the runtime when absent. */
  maxWaitHours: integerBetween(1, 1344).optional(),
  /** The approval status of newly registered versions. */
  approval: oneOf(['PendingManualApproval', 'Approved'] as const).default('PendingManualApproval'),
  /** An EventBridge schedule expression for retraining, e.g. `rate(7 days)`. */
  schedule: withRule("must be an EventBridge schedule expression such as 'rate(7 days)' or 'cron(0 2 ? * SUN *)'",
    (e) => z.string(e).regex(/^(rate|cron)\(.+\)$/, e)).optional(),
  /** The training image's tag or digest in the example repository, whose tags are immutable: required, so every run can be reproduced. */
  imageTag: withRule(`must be ${PINNED_IMAGE_RULE}`,
    (e) => z.string(e).refine(isPinnedImageReference, e)),
  /** How many images the training repository keeps (the oldest expire first); a registered version whose image expired cannot be served again. */
  maxImageCount: integerBetween(1, 10000).default(100),
  /** Thresholds a trained model must meet to be registered, e.g. `validation:auc >= 0.85`. */
  qualityGate: z.array(z.string({ error: 'must be a list of thresholds' }), { error: 'must be a list of thresholds' }).default([]),
}).superRefine((training, ctx) => {
  if (training.spot && training.maxWaitHours !== undefined && training.maxWaitHours < training.maxRuntimeHours) {
    reject(ctx, ['maxWaitHours'], training.maxWaitHours, `must be at least 'maxRuntimeHours' (${training.maxRuntimeHours})`);
  }
});

const servingSchema = section({
  /** The hosting instance type. */
  instanceType: withRule('must be an instance type such as ml.m5.large',
    (e) => z.string(e).regex(/^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, e)).default('ml.m5.large'),
  /** Instances per variant. */
  instanceCount: integerBetween(1, 100).default(1),
  /** How a deploy moves traffic to a new model version. */
  strategy: oneOf(['allAtOnce', 'canary', 'linear'] as const).default('allAtOnce'),
  /** Minutes each step of a canary or linear deploy takes traffic, and the final bake. */
  waitMinutes: integerBetween(0, 60).default(10),
  /** p99 model latency, in milliseconds, above which a deploy rolls back. */
  latencyThresholdMs: integerBetween(1, 60000).optional(),
  /** The most instances autoscaling may add per variant; no autoscaling when absent. */
  maxInstanceCount: integerBetween(1, 100).optional(),
  /** Also deploy an A/B endpoint: the baseline version against the latest approved one. */
  abTest: z.boolean({ error: 'must be true or false' }).default(false),
  /** Also deploy a shadow endpoint: the baseline version serves, the latest approved one shadows. */
  shadow: z.boolean({ error: 'must be true or false' }).default(false),
  /** The registered version that A/B and shadow endpoints compare against. */
  baselineVersion: integerBetween(1, 1000000).optional(),
}).superRefine((serving, ctx) => {
  if ((serving.abTest || serving.shadow) && serving.baselineVersion === undefined) {
    reject(ctx, ['baselineVersion'], serving.baselineVersion,
      "must be set when 'abTest' or 'shadow' is true: it is the version the latest approved one is compared with");
  }
  if (serving.maxInstanceCount !== undefined && serving.maxInstanceCount < serving.instanceCount) {
    reject(ctx, ['maxInstanceCount'], serving.maxInstanceCount, `must be at least 'instanceCount' (${serving.instanceCount})`);
  }
});

const gatewaySchema = section({
  /** Put an inference gateway in front of the A/B endpoint (or the main endpoint without an A/B test). */
  enabled: z.boolean({ error: 'must be true or false' }).default(false),
  /** Share of inference records that keep request and response bodies. */
  bodySampleRate: withRule('must be a number between 0 and 1', (e) => z.number(e).min(0, e).max(1, e)).default(0.1),
  /** JSON fields redacted from recorded bodies. */
  redactFields: z.array(z.string({ error: 'must be a field name' }).min(1, { error: 'must be a field name' }), { error: 'must be a list of field names' }).default([]),
  /** Days after a prediction during which its outcomes are accepted. */
  outcomeWindowDays: integerBetween(1, 90).default(7),
  /** Steady-state requests per second. */
  rateLimit: integerBetween(1, 10000).default(100),
  /** Requests allowed in a burst. */
  burstLimit: integerBetween(1, 5000).default(200),
  /** A Glue table over the records, for Athena. */
  analytics: z.boolean({ error: 'must be true or false' }).default(false),
});

const networkSchema = section({
  /** Run training jobs and endpoints in a VPC of private isolated subnets, with an S3 gateway endpoint. */
  vpc: z.boolean({ error: 'must be true or false' }).default(false),
  /** The VPC's IPv4 range, a /16 to /24 block. */
  cidr: withRule("must be an IPv4 CIDR block from /16 to /24 such as '10.0.0.0/16'",
    (e) => z.string(e).regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(1[6-9]|2[0-4])$/, e)).default('10.0.0.0/16'),
  /** Availability zones the VPC spans. */
  maxAzs: integerBetween(2, 3).default(2),
  /** Cut training and model containers off the network (with or without the VPC). */
  networkIsolation: z.boolean({ error: 'must be true or false' }).default(false),
});

const percent = (min: number) => integerBetween(min, 100);

const releaseSchema = section({
  /** Run a release controller on the A/B endpoint (needs 'serving.abTest' and 'gateway.enabled'). */
  enabled: z.boolean({ error: 'must be true or false' }).default(false),
  /** How traffic moves. */
  policy: oneOf(['progressive', 'experiment', 'bandit'] as const).default('progressive'),
  /** The primary metric: conversion rate, or mean outcome value per invocation. */
  metric: oneOf(['rate', 'mean'] as const).default('rate'),
  /** The gateway outcome type the metric counts. */
  outcomeType: withRule('must be 1-64 letters, digits or _.:-', (e) => z.string(e).regex(/^[A-Za-z0-9_.:-]{1,64}$/, e)).default('purchase'),
  /** The smallest relative change worth detecting. */
  minimumDetectableEffect: withRule('must be a number greater than 0 and at most 1', (e) => z.number(e).gt(0, e).max(1, e)).default(0.05),
  /** Progressive: the candidate's weights in percent, ending at 100. */
  steps: z.array(percent(1), { error: 'must be a list of whole percentages' }).default([5, 10, 25, 50, 100]),
  /** Experiment: the candidate's fixed weight in percent. */
  candidateWeight: integerBetween(1, 99).default(50),
  /** Bandit: the least weight each variant keeps, in percent. */
  floorPercent: integerBetween(0, 50).default(10),
  /** Minutes between ticks. */
  evaluationIntervalMinutes: integerBetween(1, 1440).default(15),
  /** Progressive: minimum minutes at each step. */
  minStepMinutes: integerBetween(0, 10080).default(60),
  /** Hours after which an inconclusive rollout pauses for a person. */
  maxDurationHours: integerBetween(1, 2160).default(336),
  /** Minutes within which outcomes arrive: the test compares predictions at least this old (default: the gateway's outcome window). */
  outcomeDelayMinutes: integerBetween(1, 18720).optional(),
  /** Hours before a promotion (default: a week for experiments and bandits, or half of maxDurationHours when that is shorter; 0 for progressive). */
  minRunHours: integerBetween(0, 2160).optional(),
  /** Progressive: how much worse the candidate may be, relative (default: minimumDetectableEffect). */
  nonInferiorityMargin: withRule('must be a number greater than 0 and less than 1', (e) => z.number(e).gt(0, e).lt(1, e)).optional(),
});

/**
 * An absent section, parsed like an empty one: every key takes its default, and a required key
 * (`training.imageTag`) is reported missing under its own name.
 */
const NO_SETTINGS = {} as z.input<typeof trainingSchema>;

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
  /** Training pipeline settings. */
  training: trainingSchema.prefault(NO_SETTINGS),
  /** Endpoint settings. */
  serving: servingSchema.prefault({}),
  /** Inference gateway and logging hooks. */
  gateway: gatewaySchema.prefault({}),
  /** Release controller on the A/B endpoint. */
  release: releaseSchema.prefault({}),
  /** Where training jobs and endpoints run on the network. */
  network: networkSchema.prefault({}),
}).superRefine((env, ctx) => {
  if (env.release.enabled && !(env.serving.abTest && env.gateway.enabled)) {
    reject(ctx, ['release', 'enabled'], env.release.enabled,
      "needs 'serving.abTest' and 'gateway.enabled': the controller moves the A/B endpoint's weights on the gateway's metrics");
  }
  if (!env.production) {
    return;
  }
  if (env.registry.removal === 'destroy') {
    reject(ctx, ['registry', 'removal'], env.registry.removal, "must be 'retain' in an environment marked production");
  }
  if (env.training.approval === 'Approved') {
    reject(ctx, ['training', 'approval'], env.training.approval,
      "must be 'PendingManualApproval' in an environment marked production: a person approves production models");
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
