import { DescribeEndpointCommand, ListTagsCommand } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { RolloutStore } from '../hooks/runtime/rollout-store';
import { PRODUCTION_TAG, rolloutTableName } from '../release/rollout-record';
import { percentages } from '../release/weights';
import { variantModelVersion } from '../serving/runtime/model-version';
import type { AwsClients } from './aws';
import { CliError, EXIT } from './errors';
import type { Io } from './io';

/** A production variant as the CLI shows it. */
export interface VariantView {
  readonly name: string;
  readonly currentWeight: number;
  readonly desiredWeight: number;
  readonly currentInstanceCount?: number;
  readonly desiredInstanceCount?: number;
}

/** An endpoint as the CLI sees it. */
export interface EndpointView {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly configName: string;
  readonly failureReason?: string;
  readonly variants: VariantView[];
  /** Current weights in whole percent. */
  readonly weights: Record<string, number>;
}

/** Statuses in which weights may change. */
export const CHANGEABLE_STATUS = 'InService';

/** Describes the endpoint; an unknown endpoint is bad input, naming the region searched. */
export async function describeEndpoint(aws: AwsClients, name: string): Promise<EndpointView> {
  try {
    const out = await aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    const variants = (out.ProductionVariants ?? []).map((v) => ({
      name: v.VariantName ?? '',
      currentWeight: v.CurrentWeight ?? 0,
      desiredWeight: v.DesiredWeight ?? v.CurrentWeight ?? 0,
      currentInstanceCount: v.CurrentInstanceCount,
      desiredInstanceCount: v.DesiredInstanceCount,
    }));
    return {
      name,
      arn: out.EndpointArn ?? '',
      status: out.EndpointStatus ?? 'Unknown',
      configName: out.EndpointConfigName ?? '',
      ...(out.FailureReason ? { failureReason: out.FailureReason } : {}),
      variants,
      weights: percentages(Object.fromEntries(variants.map((v) => [v.name, v.currentWeight]))),
    };
  } catch (error) {
    if ((error as Error).name === 'ValidationException' && /could not find/i.test((error as Error).message)) {
      throw new CliError(EXIT.USAGE, `unknown endpoint '${name}' in region ${await aws.sagemaker.config.region()}`);
    }
    throw error;
  }
}

/** Whether the endpoint is tagged as production (`modelship:production=true`). */
export async function isProduction(aws: AwsClients, endpointArn: string): Promise<boolean> {
  const out = await aws.sagemaker.send(new ListTagsCommand({ ResourceArn: endpointArn }));
  return (out.Tags ?? []).some((t) => t.Key === PRODUCTION_TAG && t.Value === 'true');
}

/** Who is running the command, for the audit trail. */
export async function callerArn(aws: AwsClients): Promise<string> {
  const out = await aws.sts.send(new GetCallerIdentityCommand({}));
  return out.Arn ?? 'unknown caller';
}

/** The endpoint's rollout table. */
export function rolloutStore(aws: AwsClients, endpoint: string, table?: string): RolloutStore {
  return new RolloutStore(aws.dynamodb, table ?? rolloutTableName(endpoint));
}

/** Refuses a weight change unless the endpoint is InService, saying why. */
export function requireChangeable(endpoint: EndpointView): void {
  if (endpoint.status !== CHANGEABLE_STATUS) {
    const why = endpoint.failureReason ? `: ${endpoint.failureReason}` : '';
    throw new CliError(EXIT.REFUSED, `endpoint '${endpoint.name}' is ${endpoint.status}${why}; weights can change only while it is InService`);
  }
}

/**
 * Waits until the endpoint is InService again (a spinner on a terminal), polling every
 * `pollMs`; throws a timeout error after `timeoutSeconds`, or a failure when it fails.
 */
export async function waitInService(aws: AwsClients, io: Io, name: string, timeoutSeconds: number, pollMs = 5000): Promise<EndpointView> {
  const deadline = io.now() + timeoutSeconds * 1000;
  for (;;) {
    const endpoint = await describeEndpoint(aws, name);
    if (endpoint.status === CHANGEABLE_STATUS) {
      return endpoint;
    }
    if (/Failed/.test(endpoint.status)) {
      throw new CliError(EXIT.FAILED, `endpoint '${name}' is ${endpoint.status}${endpoint.failureReason ? `: ${endpoint.failureReason}` : ''}`);
    }
    if (io.now() >= deadline) {
      throw new CliError(EXIT.TIMEOUT, `endpoint '${name}' is still ${endpoint.status} after ${timeoutSeconds} s; the change was made, check it with 'modelship status ${name}'`);
    }
    io.progress(`waiting for ${name}: ${endpoint.status}`);
    await io.sleep(pollMs);
  }
}

/** A weights table: variant, before, after. */
export function weightChangeLines(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const width = Math.max(7, ...names.map((n) => n.length));
  return [
    `${'variant'.padEnd(width)}  before  after`,
    ...names.map((n) => `${n.padEnd(width)}  ${`${before[n] ?? 0}%`.padStart(6)}  ${`${after[n] ?? 0}%`.padStart(5)}`),
  ];
}

/**
 * The model version `variant` serves now (`variantModelVersion` on the endpoint's current
 * config), or undefined when SageMaker cannot say (a config without the variant, a model gone).
 */
export async function servedVersion(aws: AwsClients, endpoint: EndpointView, variant: string): Promise<string | undefined> {
  try {
    return await variantModelVersion(aws.sagemaker, endpoint.configName, variant);
  } catch (error) {
    // The config or the model is gone (a deploy replaced them while this ran).
    if ((error as Error).name === 'ValidationException') {
      return undefined;
    }
    throw error;
  }
}
