import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HandlerFunction } from '../../lib/private/handler-function';
import { nagFindings, testApp } from '../helpers';

describe('HandlerFunction', () => {
  // The one test that really bundles: esbuild runs locally, without Docker.
  const app = testApp({ 'aws:cdk:bundling-stacks': ['**'] });
  const stack = new Stack(app, 'Hooks');
  const hook = new HandlerFunction(stack, 'Gate', { hook: 'training-gate', description: 'gate' });
  const assembly = app.synth();
  const template = Template.fromStack(stack);

  test('bundles the hook with esbuild into a handler that runs, with a source map', async () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const bundledSource = readFileSync(join(assembly.directory, `asset.${assetHash}`, 'index.js'), 'utf8');
    expect(bundledSource).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    expect(existsSync(join(assembly.directory, `asset.${assetHash}`, 'index.js.map'))).toBe(true);
    // The bundle is CommonJS at a path known only at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(join(assembly.directory, `asset.${assetHash}`, 'index.js'));
    const out = await bundled.handler({
      training: {
        TrainingJobName: 'churn-1',
        TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:111111111111:training-job/churn-1',
        ModelArtifacts: { S3ModelArtifacts: 's3://b/models/churn/churn-1/output/model.tar.gz' },
        AlgorithmSpecification: { TrainingImage: 'img' },
        FinalMetricDataList: [{ MetricName: 'auc', Value: 0.9 }],
      },
      thresholds: [{ metric: 'auc', operator: '>=', value: 0.8 }],
      registration: { model: 'churn', contentTypes: ['a'], responseTypes: ['b'], executionArn: 'e' },
    });
    expect(out.passed).toBe(true);
  });

  test('runs on the latest Node.js on ARM with JSON logs to its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
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
