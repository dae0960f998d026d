import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EndpointModel, InferenceInstanceType, ModelEndpoint, ModelRegistry } from '../../lib';
import { InferenceGateway, InferenceGatewayProps } from '../../lib/hooks/inference-gateway';
import { nagFindings, problemsOf, testStack } from '../helpers';

function fixture(extra: Partial<InferenceGatewayProps> = {}, stack: Stack = testStack()) {
  const registry = new ModelRegistry(stack, 'Registry');
  const endpoint = new ModelEndpoint(stack, 'Churn', {
    endpointName: 'churn-ab',
    variants: ['baseline', 'candidate'].map((variantName, i) => ({
      variantName,
      model: EndpointModel.fromModelPackage(registry, `arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/${i + 1}`),
      instanceType: InferenceInstanceType.M5_LARGE,
      initialWeight: 50,
    })),
  });
  const gateway = new InferenceGateway(stack, 'Gateway', { endpoint, ...extra });
  return { stack, gateway };
}

const scheduleOf = (stack: Stack) => {
  const schedules = Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule');
  expect(Object.keys(schedules)).toHaveLength(1);
  return Object.values(schedules)[0].Properties;
};

describe('InferenceGateway signing key rotation', () => {
  const { stack, gateway } = fixture();

  test('rotates the signing key every 30 days through its own function, never at deploy time', () => {
    expect(scheduleOf(stack)).toEqual({
      SecretId: { Ref: stack.getLogicalId(gateway.signingKey.node.defaultChild as never) },
      RotationLambdaARN: { 'Fn::GetAtt': [stack.getLogicalId(gateway.keyRotationFunction.node.defaultChild as never), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    // The generated value stays what it was (key version 0): changing it would invalidate the ids it signed.
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 } });
  });

  test('lets the rotation function read, put and relabel only the signing key', () => {
    const statements = stack.resolve((gateway.keyRotationFunction.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    expect(statements.map((s: { Action: unknown; Resource: unknown }) => [s.Action, s.Resource])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], expect.anything()],
      [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        { Ref: stack.getLogicalId(gateway.signingKey.node.defaultChild as never) }],
      ['secretsmanager:GetRandomPassword', '*'],
    ]);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [stack.getLogicalId(gateway.keyRotationFunction.node.defaultChild as never), 'Arn'] },
    });
  });

  test('leaves no cdk-nag finding unacknowledged, and no longer acknowledges the missing rotation', () => {
    expect(nagFindings(stack)).toEqual([]);
    const acknowledged = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(acknowledged).not.toContain('AwsSolutions-SMG4');
  });

  test('defaults to the shortest interval allowed when that is longer than 30 days', () => {
    expect(scheduleOf(fixture({ outcomeWindow: Duration.days(45) }).stack).RotationRules).toEqual({ ScheduleExpression: 'rate(47 days)' });
    expect(scheduleOf(fixture({ outcomeWindow: Duration.hours(30 * 24 - 1) }).stack).RotationRules).toEqual({ ScheduleExpression: 'rate(31 days)' });
    expect(scheduleOf(fixture({ signingKeyRotation: Duration.days(90) }).stack).RotationRules).toEqual({ ScheduleExpression: 'rate(90 days)' });
  });

  test('refuses an interval shorter than the outcome window plus a day, not in whole days, or above 1000 days, naming property, rule and value', () => {
    const rule = (least: number, got: string) =>
      `'signingKeyRotation' must be a whole number of days between ${least} (the outcome window and the 5-minute key cache, in days rounded up, plus a day) and 1000, got ${got}`;
    expect(problemsOf(() => fixture({ signingKeyRotation: Duration.days(8) }))).toEqual([rule(9, "'8 days'")]);
    expect(problemsOf(() => fixture({ outcomeWindow: Duration.days(30), signingKeyRotation: Duration.days(31) }))).toEqual([rule(32, "'31 days'")]);
    expect(problemsOf(() => fixture({ outcomeWindow: Duration.hours(36), signingKeyRotation: Duration.days(2) }))).toEqual([rule(3, "'2 days'")]);
    expect(problemsOf(() => fixture({ signingKeyRotation: Duration.hours(224) }))).toEqual([rule(9, "'9 days 8 hours'")]);
    expect(problemsOf(() => fixture({ signingKeyRotation: Duration.days(1001) }))).toEqual([rule(9, "'1001 days'")]);
    expect(() => fixture({ signingKeyRotation: Duration.days(9) })).not.toThrow();
    expect(() => fixture({ outcomeWindow: Duration.hours(36), signingKeyRotation: Duration.days(3) })).not.toThrow();
  });

  test('refuses a token interval (the schedule is written at synthesis), and gives a token window the longest window\'s default', () => {
    const stack = testStack();
    const days = new CfnParameter(stack, 'RotationDays', { type: 'Number' });
    expect(problemsOf(() => fixture({ signingKeyRotation: Duration.days(days.valueAsNumber) }, stack))).toEqual([
      "'signingKeyRotation' must be known at synthesis, got a token",
    ]);
    const other = testStack();
    const seconds = new CfnParameter(other, 'WindowSeconds', { type: 'Number' });
    fixture({ outcomeWindow: Duration.seconds(seconds.valueAsNumber) }, other);
    expect(scheduleOf(other).RotationRules).toEqual({ ScheduleExpression: 'rate(92 days)' });
  });

  test('stays free of unacknowledged cdk-nag findings with a key the user gives', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(stack, 'Given', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const { gateway } = fixture({ encryptionKey: key }, stack);
    expect(gateway.encryptionKey).toBe(key);
    expect(nagFindings(stack)).toEqual([]);
  });
});
