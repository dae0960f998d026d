import { CfnParameter, Duration, PhysicalName, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelPackageGroup, ModelRegistry, ModelshipError } from '../../lib';
import { nagFindings, problemsOf, testApp, testStack } from '../helpers';

/** The statements of the only IAM policy in the template. */
function policyStatements(template: Template): unknown[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

function registryWithRole(props: ConstructorParameters<typeof ModelRegistry>[2] = {}) {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry', props);
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  return { stack, registry, role };
}

/** The registry's ARNs as they appear in the template. */
function arns(stack: Stack, registry: ModelRegistry) {
  return {
    bucketArn: stack.resolve(registry.bucket.bucketArn),
    keyArn: stack.resolve(registry.encryptionKey?.keyArn),
    groupArn: stack.resolve(registry.modelPackageGroup.modelPackageGroupArn),
    packageArns: stack.resolve(registry.modelPackageGroup.modelPackageArns),
  };
}

describe('ModelRegistry with default settings', () => {
  const { stack, registry } = registryWithRole();
  const template = Template.fromStack(stack);
  const { keyArn } = arns(stack, registry);

  test('encrypts artifacts with a new customer-managed key that rotates', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
        }],
      },
    });
  });

  test('versions the artifact bucket and blocks all public access to both buckets', () => {
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
    const blocked = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(blocked);
    }
  });

  test('denies requests without TLS 1.2 on both buckets', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]));
    }
  });

  test('makes artifacts write-once: creating an object under models/ needs If-None-Match, except for SageMaker training roles', () => {
    const { bucketArn } = arns(stack, registry);
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: Match.stringLikeRegexp('^RegistryBucket') } } }));
    expect(policies).toHaveLength(1);
    const writeOnce = policies[0].Properties.PolicyDocument.Statement.filter((st: { Sid?: string }) => st.Sid === 'RequireConditionalArtifactWrites');
    expect(writeOnce).toEqual([{
      Sid: 'RequireConditionalArtifactWrites',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [bucketArn, '/models/*']] },
      Condition: {
        'Null': { 's3:if-none-match': 'true' },
        'Bool': { 's3:ObjectCreationOperation': 'true' },
        'StringNotEquals': { 'aws:PrincipalTag/modelship:artifact-writer': 'training' },
      },
    }]);
  });

  test('aborts incomplete uploads after 7 days and expires noncurrent versions after 90', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
          { Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' },
        ],
      },
    });
  });

  test('writes server access logs to a log bucket that keeps them for a year', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^RegistryAccessLogs') },
        LogFilePrefix: 'registry/',
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 365, Status: 'Enabled' }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^RegistryAccessLogs') },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
        })]),
      },
    });
  });

  test('retains buckets and key when the stack is deleted, without auto-delete', () => {
    const resources = ['AWS::S3::Bucket', 'AWS::KMS::Key'].flatMap((type) => Object.values(template.findResources(type)));
    expect(resources).toHaveLength(3);
    for (const resource of resources) {
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('generates a lowercase group name, so its ARN and the model package pattern agree', () => {
    expect(stack.resolve(registry.modelPackageGroup.modelPackageArns)).toEqual({
      'Fn::Join': ['', [
        'arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
        `:model-package/${registry.modelPackageGroup.modelPackageGroupName}/*`,
      ]],
    });
  });

  test('creates one model package group with a generated name and no resource policy', () => {
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 1);
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: Match.stringLikeRegexp('^teststack-registry-modelpackagegroup-[0-9a-f]{8}$'),
      ModelPackageGroupPolicy: Match.absent(),
    });
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ModelRegistry settings', () => {
  test('uses a key the user passes instead of creating one', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(stack, 'Shared', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const registry = new ModelRegistry(stack, 'Registry', { encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
        }],
      },
    });
    expect(registry.encryptionKey).toBe(key);
  });

  test('expires noncurrent versions after the configured period', () => {
    const stack = testStack();
    new ModelRegistry(stack, 'Registry', {
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ],
      },
    });
  });

  test('logs to a bucket the user passes instead of creating one', () => {
    const stack = testStack();
    const logs = new s3.Bucket(stack, 'CentralLogs');
    const registry = new ModelRegistry(stack, 'Registry', { accessLogsBucket: logs });
    const template = Template.fromStack(stack);
    expect(registry.accessLogsBucket).toBe(logs);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^CentralLogs') }, LogFilePrefix: 'registry/' },
    });
  });

  test('destroys buckets, objects and key only on explicit opt-in', () => {
    const stack = testStack();
    new ModelRegistry(stack, 'Registry', { destroyOnRemoval: true });
    const template = Template.fromStack(stack);
    const resources = ['AWS::S3::Bucket', 'AWS::KMS::Key'].flatMap((type) => Object.values(template.findResources(type)));
    expect(resources).toHaveLength(3);
    for (const resource of resources) {
      expect(resource.DeletionPolicy).toBe('Delete');
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('names the model package group as asked, with a description', () => {
    const stack = testStack();
    new ModelRegistry(stack, 'Registry', { modelPackageGroup: { modelPackageGroupName: 'Churn-Models', description: 'churn' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'Churn-Models',
      ModelPackageGroupDescription: 'churn',
    });
  });

  test('rejects periods that are not whole days within range, naming each', () => {
    const stack = testStack();
    expect(() => new ModelRegistry(stack, 'Registry', {
      noncurrentVersionExpiration: Duration.hours(36),
      abortIncompleteMultipartUploadAfter: Duration.days(0),
      accessLogsRetention: Duration.days(4000),
    })).toThrow(new ModelshipError("Invalid ModelRegistry 'TestStack/Registry'", [
      "'noncurrentVersionExpiration' must be a whole number of days between 1 and 3650, got '1 day 12 hours'",
      "'abortIncompleteMultipartUploadAfter' must be a whole number of days between 1 and 365, got '0 days'",
      "'accessLogsRetention' must be a whole number of days between 1 and 3650, got '4000 days'",
    ]));
  });

  test('rejects reader accounts given twice', () => {
    expect(() => new ModelRegistry(testStack(), 'Registry', {
      readerAccounts: ['222222222222'],
      modelPackageGroup: { readerAccounts: ['333333333333'] },
    })).toThrow("Specify either 'readerAccounts' or 'modelPackageGroup.readerAccounts', not both");
  });

  test('rejects an invalid model package group name and reader account', () => {
    expect(() => new ModelRegistry(testStack(), 'Registry', {
      readerAccounts: ['12345'],
      modelPackageGroup: { modelPackageGroupName: 'churn_models' },
    })).toThrow(new ModelshipError("Invalid ModelPackageGroup 'TestStack/Registry/ModelPackageGroup'", [
      "'modelPackageGroupName' must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, got 'churn_models'",
      "'readerAccounts' must hold 12-digit AWS account ids, got '12345'",
    ]));
  });
});

describe('ModelRegistry shared with other accounts', () => {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry', { readerAccounts: ['222222222222', '333333333333'] });
  const template = Template.fromStack(stack);
  const { bucketArn, packageArns } = arns(stack, registry);
  const readers = {
    AWS: [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:root']] },
    ],
  };

  test('lets the named accounts read the model package group and its versions', () => {
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReadGroupCrossAccount',
            Effect: 'Allow',
            Principal: readers,
            Action: 'sagemaker:DescribeModelPackageGroup',
            Resource: {
              'Fn::Join': ['', [
                'arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
                Match.stringLikeRegexp('^:model-package-group/teststack-registry-modelpackagegroup-[0-9a-f]{8}$'),
              ]],
            },
          },
          {
            Sid: 'ReadVersionsCrossAccount',
            Effect: 'Allow',
            Principal: readers,
            Action: ['sagemaker:CreateModel', 'sagemaker:DescribeModelPackage', 'sagemaker:ListModelPackages'],
            Resource: packageArns,
          },
        ],
      },
    });
  });

  test('lets the named accounts read artifacts, and nothing else, from the bucket', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^RegistryBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Principal: readers,
          Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
          Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/models/*']] }],
        }]),
      },
    });
  });

  test('lets the named accounts decrypt through the key policy', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Principal: readers,
          Action: ['kms:Decrypt', 'kms:DescribeKey'],
          Resource: '*',
        }]),
      },
    });
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ModelRegistry grants', () => {
  test('grantRead allows reading artifacts under models/, decrypting, and describing versions', () => {
    const { stack, registry, role } = registryWithRole();
    registry.grantRead(role);
    const { bucketArn, keyArn, groupArn, packageArns } = arns(stack, registry);
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
        Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/models/*']] }],
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: keyArn },
      {
        Effect: 'Allow',
        Action: ['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        Resource: [groupArn, packageArns],
      },
    ]);
  });

  test('grantWrite allows putting artifacts and encrypting them, but not deleting', () => {
    const { stack, registry, role } = registryWithRole();
    registry.grantWrite(role, 'checkpoints/*');
    const { bucketArn, keyArn } = arns(stack, registry);
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:Abort*', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/checkpoints/*']] },
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'], Resource: keyArn },
    ]);
  });

  test('grantRegister allows creating model packages in the group only', () => {
    const { stack, registry, role } = registryWithRole();
    registry.grantRegister(role);
    const { groupArn, packageArns } = arns(stack, registry);
    expect(policyStatements(Template.fromStack(stack))).toEqual([{
      Effect: 'Allow',
      Action: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'],
      Resource: [groupArn, packageArns],
    }]);
  });
});

describe('ModelRegistry.artifactLocation', () => {
  test('gives the key and s3 URI of a model version in the registry bucket', () => {
    const { stack, registry } = registryWithRole();
    const location = registry.artifactLocation('churn', '1.2.0');
    expect(location.key).toBe('models/churn/1.2.0/output/model.tar.gz');
    expect(stack.resolve(location.s3Uri)).toEqual({
      'Fn::Join': ['', ['s3://', stack.resolve(registry.bucket.bucketName), '/models/churn/1.2.0/output/model.tar.gz']],
    });
    expect(stack.resolve(location.bucketName)).toEqual(stack.resolve(registry.bucket.bucketName));
    expect(() => registry.artifactLocation('Churn', '1')).toThrow("'model' must be");
  });
});

describe('ModelRegistry.fromModelRegistryAttributes', () => {
  const stack = new Stack(testApp(), 'Consumer', { env: { account: '444444444444', region: 'eu-west-1' } });
  const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/k-1');
  const registry = ModelRegistry.fromModelRegistryAttributes(stack, 'Registry', {
    bucket: s3.Bucket.fromBucketAttributes(stack, 'Bucket', { bucketName: 'shared-registry', encryptionKey: key }),
    modelPackageGroup: ModelPackageGroup.fromModelPackageGroupArn(stack, 'Group',
      'arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn'),
  });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  registry.grantRead(role);
  registry.grantRegister(role);

  test('takes its environment from the model package group', () => {
    expect(registry.env).toEqual({ account: '111111111111', region: 'eu-west-1' });
    expect(registry.modelPackageGroup.modelPackageGroupName).toBe('churn');
    expect(registry.encryptionKey).toBe(key);
  });

  test('locates artifacts in the imported bucket', () => {
    expect(stack.resolve(registry.artifactLocation('churn', '3').s3Uri)).toBe('s3://shared-registry/models/churn/3/output/model.tar.gz');
  });

  test('grants on the imported bucket, key and group ARNs', () => {
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
        Resource: ['arn:aws:s3:::shared-registry', 'arn:aws:s3:::shared-registry/models/*'],
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: 'arn:aws:kms:eu-west-1:111111111111:key/k-1' },
      {
        Effect: 'Allow',
        Action: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        Resource: [
          'arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn',
          'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/*',
        ],
      },
    ]);
  });
});

describe('ModelPackageGroup.fromModelPackageGroupName', () => {
  test('builds a lowercase ARN in the importing stack\'s account and region', () => {
    const stack = new Stack(testApp(), 'S', { env: { account: '555555555555', region: 'us-east-1' } });
    const group = ModelPackageGroup.fromModelPackageGroupName(stack, 'G', 'Churn-Models');
    expect(group.modelPackageGroupName).toBe('Churn-Models');
    expect(stack.resolve(group.modelPackageGroupArn)).toBe('arn:aws:sagemaker:us-east-1:555555555555:model-package-group/churn-models');
    expect(stack.resolve(group.modelPackageArns)).toBe('arn:aws:sagemaker:us-east-1:555555555555:model-package/churn-models/*');
  });
});

describe('ModelPackageGroup for another model family', () => {
  test('has its own name, reader policy and register grant', () => {
    const stack = testStack();
    const ranking = new ModelPackageGroup(stack, 'Ranking', { modelPackageGroupName: 'ranking', readerAccounts: ['222222222222'] });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    ranking.grantRegister(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'ranking',
      ModelPackageGroupPolicy: { Statement: [
        Match.objectLike({ Sid: 'ReadGroupCrossAccount' }),
        Match.objectLike({ Sid: 'ReadVersionsCrossAccount' }),
      ] },
    });
    expect(policyStatements(template)).toEqual([{
      Effect: 'Allow',
      Action: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'],
      Resource: [
        stack.resolve(ranking.modelPackageGroupArn),
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':model-package/ranking/*']] },
      ],
    }]);
    // Versions are numbered by SageMaker at registration: the grant acknowledges the group's versions for its own actions.
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ModelRegistry with values known only at deploy time', () => {
  const stack = testStack();
  const parameter = (id: string) => new CfnParameter(stack, id, { type: 'Number' });
  const registry = new ModelRegistry(stack, 'Registry', {
    noncurrentVersionExpiration: Duration.days(parameter('KeepVersionsDays').valueAsNumber),
    abortIncompleteMultipartUploadAfter: Duration.days(parameter('AbortUploadsDays').valueAsNumber),
    accessLogsRetention: Duration.days(parameter('KeepLogsDays').valueAsNumber),
    readerAccounts: [new CfnParameter(stack, 'ProductionAccount').valueAsString],
    modelPackageGroup: { modelPackageGroupName: new CfnParameter(stack, 'GroupName').valueAsString },
  });
  const template = Template.fromStack(stack);

  test('passes token periods, reader accounts and the group name through to the template', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [
        Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: { Ref: 'AbortUploadsDays' } } }),
        Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'KeepVersionsDays' } } }),
      ] },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: { Ref: 'KeepLogsDays' } })] },
    });
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: { Ref: 'GroupName' },
      ModelPackageGroupPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'ProductionAccount' }, ':root']] } },
      })]) },
    });
  });

  test('builds the ARN of a token version and the location of a token version\'s artifact', () => {
    const version = parameter('Version');
    expect(stack.resolve(registry.modelPackageGroup.modelPackageArn(version.valueAsNumber))).toEqual({
      'Fn::Join': ['', [
        'arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
        ':model-package/', { Ref: 'GroupName' }, '/', { Ref: 'Version' },
      ]],
    });
    const location = registry.artifactLocation('churn', new CfnParameter(stack, 'ArtifactVersion').valueAsString);
    expect(stack.resolve(location.key)).toEqual({ 'Fn::Join': ['', ['models/churn/', { Ref: 'ArtifactVersion' }, '/output/model.tar.gz']] });
  });

  test('still names the property, the rule and the value of a wrong literal', () => {
    expect(problemsOf(() => registry.modelPackageGroup.modelPackageArn(0))).toEqual(["'version' must be a whole number of at least 1, got 0"]);
  });
});

describe('ModelRegistry used from another account', () => {
  const app = testApp();
  const shared = new Stack(app, 'Shared', { env: { account: '111111111111', region: 'eu-west-1' } });
  const registry = new ModelRegistry(shared, 'Registry', {
    readerAccounts: ['222222222222'],
    modelPackageGroup: { modelPackageGroupName: 'churn' },
  });
  const production = new Stack(app, 'Production', { env: { account: '222222222222', region: 'eu-west-1' } });
  // The key policy names the role, which therefore needs a name too.
  const role = new iam.Role(production, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'), roleName: PhysicalName.GENERATE_IF_NEEDED });
  registry.grantRead(role);
  const sharedTemplate = Template.fromStack(shared);
  const statements = policyStatements(Template.fromStack(production));

  test('names the bucket at synthesis, and grants on literal ARNs in the registry\'s account', () => {
    const buckets = Object.values(sharedTemplate.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: Match.anyValue() } }));
    expect(buckets).toHaveLength(1);
    const bucketName = buckets[0].Properties.BucketName;
    expect(bucketName).toMatch(/^[a-z0-9.-]{3,63}$/);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
        Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/models/*`],
      }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:DescribeKey'] }),
      expect.objectContaining({
        Action: ['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        Resource: [
          'arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn',
          'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/*',
        ],
      }),
    ]);
  });

  test('keeps references in its own account as they were', () => {
    expect(Object.values(sharedTemplate.findOutputs('*'))).toEqual([]);
    expect(registry.modelPackageGroup.modelPackageGroupName).toBe('churn');
    expect(shared.resolve(registry.modelPackageGroup.modelPackageGroupArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RegistryModelPackageGroup/), 'ModelPackageGroupArn'] });
  });
});
