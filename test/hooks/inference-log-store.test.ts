import { CfnParameter, Duration, Lazy, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { InferenceLogStore, InferenceLogStoreProps } from '../../lib/hooks/inference-log-store';
import { RECORD_FILTER_PATTERN } from '../../lib/hooks/runtime/inference-record';
import { acknowledgeExpectedWildcards, BUCKET_READ_ACTIONS } from '../../lib/private/acknowledge-wildcards';
import { nagFindings, problemsOf, testApp, testStack } from '../helpers';

function fixture(props: InferenceLogStoreProps = {}) {
  const stack = testStack();
  const store = new InferenceLogStore(stack, 'Store', props);
  return {
    stack, store,
    /** Synthesizes on first use, so a test may add to the stack before. */
    get template() {
      return Template.fromStack(stack);
    },
  };
}

function policyOf(template: Template, rolePrefix: string): unknown[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith(rolePrefix)));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

const getAtt = (prefix: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}[0-9A-F]{8}$`), attribute] });
/** The same, for plain jest equality on policy statements. */
const att = (prefix: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}[0-9A-F]{8}$`)), attribute] });
const KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/** The deletion policy of each bucket, key, queue and table, by type. */
function deletionPolicies(template: Template): Record<string, unknown[]> {
  return Object.fromEntries(['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::SQS::Queue', 'AWS::DynamoDB::Table']
    .map((type) => [type, Object.values(template.findResources(type)).map((resource) => resource.DeletionPolicy)]));
}

describe('InferenceLogStore with default settings', () => {
  const { stack, store, template } = fixture();

  test('keeps records in a versioned bucket encrypted with a rotating customer key, TLS only, public access blocked, access-logged', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt('StoreKey') } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^StoreAccessLogs') }, LogFilePrefix: 'inference-logs/' },
      LifecycleConfiguration: { Rules: [
        { Id: 'expire-records', ExpirationInDays: 400, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' },
        { Id: 'remove-expired-delete-markers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
        { Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
      ] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^StoreBucket') },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 400, Status: 'Enabled' }] },
    });
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  test('delivers through Firehose, encrypted with the key, as GZIP under dated records and errors prefixes', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: getAtt('StoreKey') },
      ExtendedS3DestinationConfiguration: {
        BucketARN: getAtt('StoreBucket'),
        Prefix: 'records/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: getAtt('StoreKey') } },
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      },
    });
  });

  test('has two KMS-encrypted, TLS-only queues kept 14 days, dead letters and failed events, each with an alarm on the first message', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StoreDeadLetterQueue', 'StoreFailedEventQueue']);
    Object.values(queues).forEach((queue) => expect(queue.Properties).toEqual({ KmsMasterKeyId: att('StoreKey'), MessageRetentionPeriod: 14 * 24 * 3600 }));
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(queuePolicies).toHaveLength(2);
    queuePolicies.forEach((policy) => expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]));
    for (const [queue, alarm] of [['StoreDeadLetterQueue', store.deadLetterAlarm], ['StoreFailedEventQueue', store.failedEventAlarm]] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
        Dimensions: [{ Name: 'QueueName', Value: getAtt(queue, 'QueueName') }],
        Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching',
      });
      expect(stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmActions)).toBeUndefined();
    }
    expect([store.deadLetterAlarm.node.path, store.failedEventAlarm.node.path]).toEqual(['TestStack/Store/DeadLetterAlarm', 'TestStack/Store/FailedEventAlarm']);
  });

  test('keeps a delivery ledger: on-demand, encrypted with the store key, entries expiring by TTL', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt('StoreKey') },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(store.deliveryLedger.node.path).toBe('TestStack/Store/DeliveryLedger');
  });

  test('runs the shipper for 60 s with the stream, queue and ledger in its environment; Lambda retries twice, then sends the event to the failed-event queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x', Timeout: 60, MemorySize: 256,
      Environment: { Variables: Match.objectLike({
        DELIVERY_STREAM_NAME: { Ref: Match.stringLikeRegexp('^StoreDeliveryStream[0-9A-F]{8}$') },
        DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^StoreDeadLetterQueue[0-9A-F]{8}$') },
        LEDGER_TABLE_NAME: { Ref: Match.stringLikeRegexp('^StoreDeliveryLedger[0-9A-F]{8}$') },
        // Longer than the failed-event queue keeps an event (14 days), so a replay sends no line twice.
        LEDGER_TTL_SECONDS: String(15 * 86_400),
      }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^StoreShipperFunction') },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt('StoreFailedEventQueue') } },
    });
  });

  test('lets the shipper write its logs, put record batches on its stream, send to its queues and claim and settle ledger entries, nothing more', () => {
    expect(policyOf(template, 'StoreShipperRole')).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: att('StoreShipperLogs') },
      { Effect: 'Allow', Action: 'firehose:PutRecordBatch', Resource: att('StoreDeliveryStream') },
      // The failed-event queue: Lambda sends to it with the function's role.
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: [att('StoreDeadLetterQueue'), att('StoreFailedEventQueue')] },
      { Effect: 'Allow', Action: KEY_ACTIONS, Resource: att('StoreKey') },
      { Effect: 'Allow', Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'], Resource: att('StoreDeliveryLedger') },
      // The ledger's key in its own right, through DynamoDB only: the queue's grant above is not what lets it write the ledger.
      {
        Effect: 'Allow', Action: KEY_ACTIONS, Resource: att('StoreKey'),
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
    ]);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  test('adds no unreferenced mapping of Firehose CIDR blocks to the stack (CloudFormation W7001)', () => {
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    expect(template.toJSON().Mappings).toBeUndefined();
  });

  test("gives Firehose one role, limited to putting, listing and multipart uploads under the store's prefixes, the key and its error log", () => {
    const firehoseRoles = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'firehose.amazonaws.com' } })] } },
    });
    expect(Object.keys(firehoseRoles)).toEqual([expect.stringMatching(/^StoreDeliveryStreamS3DestinationRole[0-9A-F]{8}$/)]);
    const streams = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
    expect(streams).toHaveLength(1);
    expect(streams[0].DependsOn).toEqual([expect.stringMatching(/^StoreDeliveryStreamS3DestinationRoleDefaultPolicy[0-9A-F]{8}$/)]);
    const bucketArn = att('StoreBucket');
    expect(policyOf(template, 'StoreDeliveryStreamS3DestinationRole')).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: [{ 'Fn::Join': ['', [bucketArn, '/errors/*']] }, { 'Fn::Join': ['', [bucketArn, '/records/*']] }],
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: att('StoreKey') },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: att('StoreDeliveryStreamLogGroup') },
    ]);
  });

  test('encrypts the shipper\'s and the delivery errors\' log groups with the store key', () => {
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StoreDeliveryStreamLogGroup', 'StoreShipperLogs']);
    for (const [, group] of groups) {
      expect(group.Properties.KmsKeyId).toEqual(att('StoreKey'));
    }
  });

  test('lets no principal delete objects of the records bucket: no statement on it allows an s3:Delete action', () => {
    const onBucket = [
      ...Object.values(template.findResources('AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument.Statement),
      ...Object.values(template.findResources('AWS::S3::BucketPolicy')).map((p) => p.Properties.PolicyDocument.Statement),
    ].flat().filter((statement) => JSON.stringify(statement.Resource).includes('StoreBucket'));
    expect(onBucket.length).toBeGreaterThanOrEqual(3);
    const allowed = onBucket.filter((statement) => statement.Effect === 'Allow').flatMap((statement) => [statement.Action].flat() as string[]);
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.filter((action) => /^s3:(\*|Delete|.*\*$)/.test(action))).toEqual([]);
  });

  test('retains the buckets, key, queues and ledger when they leave the stack', () => {
    expect(deletionPolicies(template)).toEqual({
      'AWS::S3::Bucket': ['Retain', 'Retain'], 'AWS::KMS::Key': ['Retain'], 'AWS::SQS::Queue': ['Retain', 'Retain'], 'AWS::DynamoDB::Table': ['Retain'],
    });
  });

  test('creates no Glue resources without analytics', () => {
    template.resourceCountIs('AWS::Glue::Database', 0);
    template.resourceCountIs('AWS::Glue::Table', 0);
    expect(store.table).toBeUndefined();
  });

  test('measures what the shipper emits, in the Modelship namespace', () => {
    expect(stack.resolve(store.metricRecordsDelivered().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'Modelship', metricName: 'RecordsDelivered', dimensions: [{ name: 'service', value: 'modelship-log-shipper' }], statistic: 'Sum',
    });
    expect(store.metricRecordsDeadLettered({ period: Duration.minutes(1) }).toMetricConfig().metricStat).toMatchObject({
      metricName: 'RecordsDeadLettered', period: Duration.minutes(1),
    });
    expect(store.metricDeliveryRetries().metricName).toBe('DeliveryRetries');
    expect(store.metricRecordsPossiblyDuplicated().metricName).toBe('RecordsPossiblyDuplicated');
    expect(store.metricLedgerWriteFailures().metricName).toBe('LedgerWriteFailures');
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('InferenceLogStore with sources, analytics and readers', () => {
  const stack = testStack();
  const store = new InferenceLogStore(stack, 'Store', { analytics: { databaseName: 'churn_inference' }, retention: Duration.days(90) });
  const gatewayLogs = new logs.LogGroup(stack, 'GatewayLogs', { retention: logs.RetentionDays.ONE_MONTH });
  const filter = store.addSource('Gateway', gatewayLogs);
  const analyst = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
  store.grantRead(analyst);
  // What a user does for a role of their own: CDK's read grant names s3 actions with wildcards.
  acknowledgeExpectedWildcards(analyst, [{ actions: BUCKET_READ_ACTIONS, resources: [store.bucket.bucketArn, store.bucket.arnForObjects('records/*')], reason: 'Reads records only' }]);
  const template = Template.fromStack(stack);

  test('subscribes the shipper to record lines of a log group, and lets CloudWatch Logs invoke it', () => {
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^GatewayLogs') },
      FilterPattern: RECORD_FILTER_PATTERN,
      DestinationArn: getAtt('StoreShipperFunction'),
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com',
      FunctionName: getAtt('StoreShipperFunction'), SourceArn: getAtt('GatewayLogs'),
    });
    expect(filter.node.path).toBe('TestStack/Store/Gateway');
  });

  test('defines a Glue table over records/ with the JSON SerDe, a column per record field and projected dt/hour partitions', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'churn_inference' } });
    const location = { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StoreBucket') }, '/records/']] };
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'churn_inference',
      TableInput: {
        Name: 'records',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }, { Name: 'hour', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date', 'projection.dt.format': 'yyyy-MM-dd', 'projection.dt.range': 'NOW-90DAYS,NOW',
          'projection.dt.interval': '1', 'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer', 'projection.hour.range': '0,23', 'projection.hour.digits': '2',
          'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StoreBucket') }, '/records/dt=${dt}/hour=${hour}/']] },
        }),
        StorageDescriptor: Match.objectLike({
          Location: location,
          Compressed: true,
          SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: Match.objectLike({ 'case.insensitive': 'true' }) },
        }),
      },
    });
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables).toHaveLength(1);
    const [table] = tables;
    const columns = table.Properties.TableInput.StorageDescriptor.Columns as { Name: string; Type: string }[];
    expect(Object.fromEntries(columns.map((c) => [c.Name, c.Type]))).toEqual({
      recordtype: 'string', schemaversion: 'int', recordid: 'string', inferenceid: 'string', captureid: 'string', endpointname: 'string', variant: 'string',
      modelversion: 'string', assignment: 'string', unithash: 'string', unitbucket: 'int', requestedat: 'string', latencyms: 'double', modellatencyms: 'double',
      status: 'int', error: 'string', bodiessampled: 'boolean', bodiestruncated: 'boolean', request: 'string', response: 'string', outcometype: 'string',
      converted: 'boolean', value: 'double', issuedat: 'string', reportedat: 'string',
    });
    expect(table.DependsOn).toEqual([expect.stringMatching(/^StoreDatabase/)]);
    expect(store.databaseName).toBe('churn_inference');
    expect(store.tableName).toBe('records');
  });

  test('lets readers list the bucket, read and decrypt records, and read the table definition', () => {
    const bucketArn = att('StoreBucket');
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':glue:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]] });
    expect(policyOf(template, 'Analyst')).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'], Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/records/*']] }] },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: att('StoreKey') },
      {
        Effect: 'Allow',
        Action: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable', 'glue:GetTables'],
        Resource: [arn('catalog'), arn('database/churn_inference'), arn('table/churn_inference/records')],
      },
    ]);
  });

  test('expires records and access logs after the configured retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-records', ExpirationInDays: 90 })]) } });
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 90 })] } });
  });

  test('passes the AwsSolutions checks', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('InferenceLogStore settings', () => {
  test('uses the key and access-log bucket the user passes, with the buffering asked for', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(stack, 'Shared', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const central = new s3.Bucket(stack, 'CentralLogs');
    const store = new InferenceLogStore(stack, 'Store', {
      encryptionKey: key, accessLogsBucket: central, bufferingInterval: Duration.minutes(5), bufferingSize: Size.mebibytes(128),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: key.keyArn },
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 } }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^CentralLogs') }, LogFilePrefix: 'inference-logs/' } });
    expect(store.encryptionKey).toBe(key);
    expect(store.accessLogsBucket).toBe(central);
  });

  test('generates a Glue database name from the construct path with analytics: true', () => {
    const { store, template } = fixture({ analytics: true });
    expect(store.databaseName).toMatch(/^teststack_store_[0-9a-f]{8}$/);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: store.databaseName } });
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Parameters: Match.objectLike({ 'projection.dt.range': 'NOW-400DAYS,NOW' }) }) });
  });

  test('destroys buckets, key, queues and ledger only when asked', () => {
    const { template } = fixture({ removalPolicy: RemovalPolicy.DESTROY });
    expect(deletionPolicies(template)).toEqual({
      'AWS::S3::Bucket': ['Delete', 'Delete'], 'AWS::KMS::Key': ['Delete'], 'AWS::SQS::Queue': ['Delete', 'Delete'], 'AWS::DynamoDB::Table': ['Delete'],
    });
  });

  test('notifies the alarm topic from both queue alarms, into ALARM and back to OK, when given one', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    const store = new InferenceLogStore(stack, 'Store', { alarmTopic: topic });
    for (const alarm of [store.deadLetterAlarm, store.failedEventAlarm]) {
      expect(stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmActions)).toEqual([{ Ref: expect.stringMatching(/^Alarms[0-9A-F]{8}$/) }]);
      expect(stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).okActions)).toEqual([{ Ref: expect.stringMatching(/^Alarms[0-9A-F]{8}$/) }]);
    }
    expect(nagFindings(stack)).toEqual([]);
  });

  test('rejects every invalid setting at once, naming the property, the range and the value', () => {
    expect(problemsOf(() => fixture({
      retention: Duration.hours(36),
      bufferingInterval: Duration.seconds(901),
      bufferingSize: Size.kibibytes(512),
      analytics: { databaseName: 'Churn-Inference' },
    }))).toEqual([
      "'retention' must be a whole number of days between 1 and 3650, got '1 day 12 hours'",
      "'bufferingInterval' must be a whole number of seconds between 0 and 900, got '15 minutes 1 second'",
      "'bufferingSize' must be a whole number of MiB between 1 and 128, got '0.5 MiB'",
      "'analytics.databaseName' must be 1 to 255 lowercase letters, digits or underscores, got 'Churn-Inference'",
    ]);
    expect(problemsOf(() => fixture({ retention: Duration.days(4000), bufferingSize: Size.mebibytes(200) }))).toEqual([
      "'retention' must be a whole number of days between 1 and 3650, got '4000 days'",
      "'bufferingSize' must be a whole number of MiB between 1 and 128, got '200 MiB'",
    ]);
  });

  test('accepts the edges of each range', () => {
    expect(() => fixture({ retention: Duration.days(3650), bufferingInterval: Duration.seconds(0), bufferingSize: Size.mebibytes(1) })).not.toThrow();
    expect(() => fixture({ retention: Duration.days(1), bufferingInterval: Duration.seconds(900), bufferingSize: Size.mebibytes(128) })).not.toThrow();
  });

  test('accepts a token for each kind of checked setting, and passes it to the template', () => {
    const stack = testStack();
    const parameter = (id: string, type = 'Number') => new CfnParameter(stack, id, { type });
    new InferenceLogStore(stack, 'Store', {
      retention: Duration.days(parameter('RetentionDays').valueAsNumber),
      bufferingInterval: Duration.seconds(parameter('IntervalSeconds').valueAsNumber),
      bufferingSize: Size.mebibytes(parameter('SizeMiB').valueAsNumber),
      analytics: { databaseName: parameter('Database', 'String').valueAsString },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-records', ExpirationInDays: { Ref: 'RetentionDays' } })]) } });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: { Ref: 'IntervalSeconds' }, SizeInMBs: { Ref: 'SizeMiB' } } }),
    });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: { Ref: 'Database' } } });
    // The partition projection covers the longest retention when the retention is a token.
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Parameters: Match.objectLike({ 'projection.dt.range': 'NOW-3650DAYS,NOW' }) }) });
  });

  test('takes lazily produced values', () => {
    const { template } = fixture({
      retention: Duration.days(Lazy.number({ produce: () => 30 })),
      bufferingInterval: Duration.seconds(Lazy.number({ produce: () => 120 })),
      analytics: { databaseName: Lazy.string({ produce: () => 'late_name' }) },
    });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'late_name' } });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 120, SizeInMBs: 64 } }),
    });
  });

  test('names the records bucket as asked', () => {
    const { template } = fixture({ bucketName: 'churn-inference-records' });
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'churn-inference-records', LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'inference-logs/' }) });
  });

  test('names the records bucket when an analyst role in another account reads it, and leaves the name to CloudFormation otherwise', () => {
    const app = testApp();
    const storeStack = new Stack(app, 'Records', { env: { account: '111111111111', region: 'eu-west-1' } });
    const analytics = new Stack(app, 'Analytics', { env: { account: '222222222222', region: 'eu-west-1' } });
    const store = new InferenceLogStore(storeStack, 'Store');
    new InferenceLogStore(storeStack, 'Unread');
    store.grantRead(new iam.Role(analytics, 'Analyst', { roleName: 'inference-analyst', assumedBy: new iam.AccountRootPrincipal() }));
    const buckets = Template.fromStack(storeStack).findResources('AWS::S3::Bucket', { Properties: { BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } })] }) } });
    const names = Object.fromEntries(Object.entries(buckets).map(([id, bucket]) => [id.replace(/[0-9A-F]{8}$/, ''), bucket.Properties.BucketName]));
    expect(names).toEqual({ StoreBucket: expect.stringMatching(/^records[a-z]*storebucket[0-9a-f]{20}$/), UnreadBucket: undefined });
  });
});

describe('InferenceLogStore imported from another stack', () => {
  const stack = testStack();
  const key = kms.Key.fromKeyArn(stack, 'StoreKey', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  const store = InferenceLogStore.fromInferenceLogStoreAttributes(stack, 'Store', {
    bucketName: 'shared-inference-records', encryptionKey: key,
    shipperFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:log-shipper', databaseName: 'shared_inference',
  });
  const gatewayLogs = new logs.LogGroup(stack, 'GatewayLogs', { retention: logs.RetentionDays.ONE_MONTH });
  store.addSource('Gateway', gatewayLogs);
  const analyst = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
  store.grantRead(analyst);
  const template = Template.fromStack(stack);

  test("subscribes the store's shipper to a log group of this stack, and lets CloudWatch Logs invoke it", () => {
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^GatewayLogs') },
      FilterPattern: RECORD_FILTER_PATTERN,
      DestinationArn: 'arn:aws:lambda:eu-west-1:111111111111:function:log-shipper',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'logs.amazonaws.com',
      FunctionName: 'arn:aws:lambda:eu-west-1:111111111111:function:log-shipper', SourceArn: getAtt('GatewayLogs'),
    });
  });

  test('lets readers read and decrypt records, and read the table definition', () => {
    const statements = policyOf(template, 'Analyst');
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatchObject({ Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'] });
    expect(JSON.stringify(statements[0])).toContain(':s3:::shared-inference-records/records/*');
    expect(statements[1]).toEqual({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: key.keyArn });
    expect(JSON.stringify(statements[2])).toContain(':table/shared_inference/records');
  });
});
