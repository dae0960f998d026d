import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';

/** The context of cdk.json: feature flags and environments, as `cdk synth` sees them. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')).context;
}

/**
 * An App with cdk.json's context (which `new App()` alone does not read), assets referenced
 * where they are instead of copied into each test's assembly (the hooks' bundles are megabytes),
 * a fixed deploy id (so templates do not change between runs), and any extra context.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    context: { ...cdkJsonContext(), 'aws:cdk:disable-asset-staging': true, 'modelship:deploy-id': 'test', ...context },
  });
}

/** A stack in a fresh test app. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  return new Stack(testApp(context), 'TestStack');
}

/**
 * The AwsSolutions findings on a scope that nothing acknowledged, as `rule at path` lines. The
 * app is synthesized first, as `cdk synth` does before it runs the plugin, so that
 * acknowledgements made during synthesis count.
 */
export function nagFindings(scope: IConstruct): string[] {
  (Stage.of(scope) as Stage).synth();
  return new AwsSolutionsChecks(scope).validateScope(scope).violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
}

/** A template with asset hashes replaced, so a snapshot does not churn when handler code changes. */
export function maskAssetHashes(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '[ASSET HASH]'));
}

export { problemsOf } from './problems';
