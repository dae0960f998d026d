import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeExpectedWildcards, acknowledgeOnGrantee, BUCKET_READ_ACTIONS } from '../../lib/private/acknowledge-wildcards';
import { nagFindings, testApp } from '../helpers';

const METRICS = { actions: ['cloudwatch:GetMetricData'], resources: ['*'], reason: 'no resource-level permissions' };

/** A role under a construct that expects GetMetricData on '*', with the statements given. */
function roleWith(...statements: iam.PolicyStatement[]) {
  const stack = new Stack(testApp(), 'Acks');
  const owner = new Construct(stack, 'Owner');
  const role = new iam.Role(owner, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  statements.forEach((statement) => role.addToPrincipalPolicy(statement));
  acknowledgeExpectedWildcards(owner, [METRICS]);
  return { stack, owner, role };
}

const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });
const POLICY = 'Acks/Owner/Role/DefaultPolicy/Resource';

/** The wildcard findings left (the test buckets have findings of other rules). */
const wildcardFindings = (stack: Stack) => nagFindings(stack).filter((finding) => finding.startsWith('AwsSolutions-IAM5'));

describe('acknowledgeExpectedWildcards', () => {
  test('acknowledges a wildcard whose statements hold only the actions listed for it', () => {
    expect(wildcardFindings(roleWith(statement(['cloudwatch:GetMetricData'], ['*'])).stack)).toEqual([]);
  });

  test('keeps the finding when another action shares the wildcard, in its own statement or merged into the same one', () => {
    const separate = roleWith(statement(['cloudwatch:GetMetricData'], ['*']), statement(['sagemaker:DeleteEndpoint'], ['*']));
    expect(wildcardFindings(separate.stack)).toEqual([`AwsSolutions-IAM5[Resource::*] at ${POLICY}`]);
    const merged = roleWith(statement(['cloudwatch:GetMetricData', 'sagemaker:DeleteEndpoint'], ['*']));
    expect(wildcardFindings(merged.stack)).toEqual([`AwsSolutions-IAM5[Resource::*] at ${POLICY}`]);
  });

  test('acknowledges a wildcard action only on the resources listed for it', () => {
    const build = (objects: string) => {
      const stack = new Stack(testApp(), 'Acks');
      const owner = new Construct(stack, 'Owner');
      const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
      const role = new iam.Role(owner, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      bucket.grantRead(role, objects);
      acknowledgeExpectedWildcards(owner, [{ actions: BUCKET_READ_ACTIONS, resources: [bucket.bucketArn, bucket.arnForObjects('models/*')], reason: 'models only' }]);
      return stack;
    };
    expect(wildcardFindings(build('models/*'))).toEqual([]);
    const findings = wildcardFindings(build('secrets/*'));
    expect(findings).toHaveLength(4);
    expect(findings.sort()).toEqual([
      `AwsSolutions-IAM5[Action::s3:GetBucket*] at ${POLICY}`,
      `AwsSolutions-IAM5[Action::s3:GetObject*] at ${POLICY}`,
      `AwsSolutions-IAM5[Action::s3:List*] at ${POLICY}`,
      `AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/secrets/*] at ${POLICY}`,
    ]);
  });

  test('judges a policy by the expectations of every scope above it together, and by none below or beside it', () => {
    const { stack, owner, role } = roleWith(statement(['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], ['*']));
    acknowledgeOnGrantee(role, [{ actions: ['cloudwatch:ListMetrics'], resources: ['*'], reason: 'listing' }]);
    const beside = new iam.Role(stack, 'Beside', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    beside.addToPrincipalPolicy(statement(['cloudwatch:GetMetricData'], ['*']));
    expect(owner.node.findAll().filter((c) => c instanceof iam.CfnPolicy)).toHaveLength(1);
    expect(wildcardFindings(stack)).toEqual(['AwsSolutions-IAM5[Resource::*] at Acks/Beside/DefaultPolicy/Resource']);
  });

  test('matches a resource of another stack by the import the policy renders', () => {
    const app = testApp();
    const data = new Stack(app, 'Data');
    const bucket = new s3.Bucket(data, 'Bucket', { enforceSSL: true });
    const stack = new Stack(app, 'Acks');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    bucket.grantRead(role, 'models/*');
    acknowledgeOnGrantee(role, [{ actions: BUCKET_READ_ACTIONS, resources: [bucket.bucketArn, bucket.arnForObjects('models/*')], reason: 'models only' }]);
    expect(wildcardFindings(stack)).toEqual([]);
  });
});
