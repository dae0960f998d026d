import { existsSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HandlerFunction } from '../../lib/private/handler-function';
import { nagFindings, testApp } from '../helpers';
import { gateEvent } from '../lambda/gate-event';

describe('HandlerFunction', () => {
  // The one test that really bundles: esbuild runs locally, without Docker.
  const app = testApp({ 'aws:cdk:bundling-stacks': ['**'] });
  const stack = new Stack(app, 'Hooks');
  const hook = new HandlerFunction(stack, 'Gate', { hook: 'training-gate', description: 'gate' });
  const watch = new HandlerFunction(stack, 'Watch', { hook: 'training-watch', description: 'watch' });
  const assembly = app.synth();
  const template = Template.fromStack(stack);

  const bundleOf = (fn: HandlerFunction) => {
    const code = (fn.function.node.defaultChild as lambda.CfnFunction).code as { s3Key: string };
    return join(assembly.directory, `asset.${stack.resolve(code.s3Key).replace(/\.zip$/, '')}`, 'index.js');
  };

  test('bundles the pinned AWS SDK into the handler instead of using the runtime\'s', () => {
    const source = readFileSync(bundleOf(watch), 'utf8');
    expect(source).not.toMatch(/require\(["']@aws-sdk\/client-/);
    expect(source).toContain('FilterLogEvents');
  });

  test('takes credentials from the environment only, leaving the default chain out of the bundle', () => {
    const source = readFileSync(bundleOf(watch), 'utf8');
    expect(source).toContain('AWS_SESSION_TOKEN');
    expect(source).not.toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE|sso_start_url|credential_process/);
    expect(statSync(bundleOf(watch)).size).toBeLessThan(300 * 1024);
  });

  test('bundles the hook with esbuild into a handler that runs, with a source map', async () => {
    const bundle = bundleOf(hook);
    expect(readFileSync(bundle, 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    expect(existsSync(`${bundle}.map`)).toBe(true);
    // The bundle is CommonJS at a path known only at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(bundle);
    const out = await bundled.handler(gateEvent(0.9));
    expect(out.passed).toBe(true);
  });

  test('runs on the latest Node.js on ARM with JSON logs to its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'gate',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: stack.getLogicalId(hook.logGroup.node.defaultChild as never) } },
      Environment: { Variables: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'INFO' } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('has a role without managed policies that writes only to its log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(hook.logGroup.node.defaultChild as never), 'Arn'] },
      }] },
    });
    expect(nagFindings(stack)).toEqual([]);
  });
});
