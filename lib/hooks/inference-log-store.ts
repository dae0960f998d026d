import { Aws, Duration, Names, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeExpectedWildcards, escapeRegExp } from '../private/acknowledge-wildcards';
import { accessLogsBucket, encryptedBucket } from '../private/buckets';
import { MAX_RETENTION_DAYS, wholeDaysProblems, wholeMebibytesProblems, wholeSecondsProblems } from '../private/duration-problems';
import { formatValue, throwIfProblems } from '../runtime/errors';
import { HandlerFunction } from '../private/handler-function';
import { InferenceRecord, OutcomeRecord, RECORD_FILTER_PATTERN } from './runtime/inference-record';
import { LOG_SHIPPER_METRICS } from './runtime/record-delivery';

/** Where records land in the bucket: one folder per UTC day and hour of arrival in Firehose. */
export const RECORDS_PREFIX = 'records/';
/** Where Firehose writes what it could not deliver, by error type and day. */
export const ERRORS_PREFIX = 'errors/';

/** The Glue columns of a record, one per field of either record type (request and response as JSON text). */
const RECORD_COLUMNS: { readonly [K in keyof InferenceRecord | keyof OutcomeRecord]: string } = {
  recordType: 'string',
  schemaVersion: 'int',
  recordId: 'string',
  inferenceId: 'string',
  captureId: 'string',
  endpointName: 'string',
  variant: 'string',
  modelVersion: 'string',
  assignment: 'string',
  unitHash: 'string',
  requestedAt: 'string',
  latencyMs: 'double',
  modelLatencyMs: 'double',
  status: 'int',
  error: 'string',
  bodiesSampled: 'boolean',
  bodiesTruncated: 'boolean',
  request: 'string',
  response: 'string',
  outcomeType: 'string',
  converted: 'boolean',
  value: 'double',
  issuedAt: 'string',
  reportedAt: 'string',
};

/** The Glue database and table over the records, for Athena. */
export interface InferenceLogAnalyticsOptions {
  /**
   * The Glue database's name: lowercase letters, digits and underscores.
   * @default - generated from the construct path
   */
  readonly databaseName?: string;
}

/** Properties of an {@link InferenceLogStore}. */
export interface InferenceLogStoreProps {
  /**
   * The KMS key that encrypts the records bucket, the delivery stream and the dead-letter queue.
   * @default - a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The bucket that receives the records bucket's server access logs.
   * @default - a new bucket, encrypted with S3-managed keys (the only kind S3 access logging writes to)
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * How long records (and Firehose error output) are kept before S3 expires them. Whole days,
   * 1 to 3650. The created access-log bucket keeps its logs as long.
   * @default Duration.days(400) - a year and a month, so year-over-year comparisons have a full window
   */
  readonly retention?: Duration;

  /**
   * How long Firehose buffers records before writing an object. Whole seconds, 0 to 900.
   * @default Duration.seconds(60)
   */
  readonly bufferingInterval?: Duration;

  /**
   * How much Firehose buffers before writing an object, measured before GZIP compression. Whole MiB, 1 to 128.
   * @default Size.mebibytes(64)
   */
  readonly bufferingSize?: Size;

  /**
   * What happens to the buckets, the key and the dead-letter queue when they leave the stack.
   * CloudFormation deletes only empty buckets.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * A Glue database and table over the records, with partition projection, so Athena can
   * query them without crawlers. `true` for the defaults.
   * @default false - no Glue resources
   */
  readonly analytics?: boolean | InferenceLogAnalyticsOptions;
}

const GLUE_NAME = /^[a-z0-9_]{1,255}$/;

/** Where inference records land: what a gateway needs of a log store. */
export interface IInferenceLogStore extends IConstruct {
  /** The bucket the records land in. */
  readonly bucket: s3.IBucket;
  /** Ships the record lines of a log group to the store. */
  addSource(id: string, logGroup: logs.ILogGroup): logs.SubscriptionFilter;
  /** Lets the grantee read the records (and query them, with analytics). */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Stores the inference gateway's records: a subscription filter ships record lines to a Lambda
 * that delivers them to Firehose, which writes GZIP JSON Lines to a KMS-encrypted, versioned,
 * TLS-only, access-logged bucket under `records/dt=YYYY-MM-DD/hour=HH/`. Records Firehose will
 * not take after retries go to a KMS-encrypted dead-letter queue with an alarm.
 */
export class InferenceLogStore extends Construct implements IInferenceLogStore {
  /** The bucket that holds records under `records/` and Firehose error output under `errors/`. */
  public readonly bucket: s3.Bucket;
  /** The key that encrypts the bucket, the stream and the dead-letter queue. */
  public readonly encryptionKey: kms.IKey;
  /** The bucket that receives the records bucket's server access logs. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The Firehose stream that writes records to the bucket. */
  public readonly deliveryStream: firehose.DeliveryStream;
  /** Records that could not be delivered, and events the shipper failed on. */
  public readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds messages. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** The Lambda function that ships record lines from log groups to the stream. */
  public readonly shipper: lambda.Function;
  /** The Glue database, with `analytics`. */
  public readonly database?: glue.CfnDatabase;
  /** The Glue table over `records/`, with `analytics`. */
  public readonly table?: glue.CfnTable;
  /** The Glue database's name, with `analytics`. */
  public readonly databaseName?: string;
  /** The Glue table's name, with `analytics`. */
  public readonly tableName?: string;

  constructor(scope: Construct, id: string, props: InferenceLogStoreProps = {}) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(400);
    const bufferingInterval = props.bufferingInterval ?? Duration.seconds(60);
    const bufferingSize = props.bufferingSize ?? Size.mebibytes(64);
    const analytics = props.analytics === true ? {} : props.analytics || undefined;
    const databaseName = analytics ? analytics.databaseName ?? Names.uniqueResourceName(this, { maxLength: 120, separator: '_' }).toLowerCase() : undefined;
    throwIfProblems(`Invalid InferenceLogStore '${this.node.path}'`, [
      ...wholeDaysProblems('retention', retention, MAX_RETENTION_DAYS),
      ...wholeSecondsProblems('bufferingInterval', bufferingInterval, 0, 900),
      ...wholeMebibytesProblems('bufferingSize', bufferingSize, 1, 128),
      ...(databaseName !== undefined && !Token.isUnresolved(databaseName) && !GLUE_NAME.test(databaseName)
        ? [`'analytics.databaseName' must be 1 to 255 lowercase letters, digits or underscores, got ${formatValue(databaseName)}`]
        : []),
    ]);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = props.accessLogsBucket ?? accessLogsBucket(this, 'AccessLogs', { retention, removalPolicy });
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `Encrypts inference records in the modelship log store ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });

    this.bucket = encryptedBucket(this, 'Bucket', {
      encryptionKey: this.encryptionKey,
      accessLogsBucket: this.accessLogsBucket,
      accessLogsPrefix: 'inference-logs/',
      lifecycleRules: [
        { id: 'expire-records', expiration: retention, noncurrentVersionExpiration: Duration.days(30) },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });

    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      encryption: firehose.StreamEncryption.customerManagedKey(this.encryptionKey),
      destination: new firehose.S3Bucket(this.bucket, {
        dataOutputPrefix: `${RECORDS_PREFIX}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`,
        errorOutputPrefix: `${ERRORS_PREFIX}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        compression: firehose.Compression.GZIP,
        bufferingInterval,
        bufferingSize,
        encryptionKey: this.encryptionKey,
      }),
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue: the log shipper sends undeliverable records to it, and Lambda sends events the shipper failed on',
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Inference records in ${this.node.path} could not be delivered: see the dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const shipper = new HandlerFunction(this, 'Shipper', {
      hook: 'log-shipper',
      description: 'Ships modelship inference records from log groups to Firehose, dead-lettering what fails',
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment: {
        DELIVERY_STREAM_NAME: this.deliveryStream.deliveryStreamName,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
      },
    });
    this.shipper = shipper.function;
    this.deliveryStream.grant(shipper.role, 'firehose:PutRecordBatch');
    this.deadLetterQueue.grantSendMessages(shipper.role);
    this.shipper.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });

    if (databaseName !== undefined) {
      this.databaseName = databaseName;
      this.tableName = 'records';
      this.database = new glue.CfnDatabase(this, 'Database', {
        catalogId: Aws.ACCOUNT_ID,
        databaseInput: { name: databaseName, description: `modelship inference records of ${this.node.path}` },
      });
      this.table = this.createTable(databaseName, this.tableName, retention);
      this.table.node.addDependency(this.database);
    }

    acknowledgeExpectedWildcards(this, [
      {
        finding: /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        reason: 'KMS names these data-key actions only with a wildcard suffix; they are granted on the store key alone',
      },
      {
        finding: /^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$/,
        reason: "Firehose's S3 destination role needs to write, list and clean up multipart uploads of the objects it generates, in the records bucket only",
      },
      {
        finding: new RegExp(`^Resource::<${escapeRegExp(Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket))}\\.Arn>/\\*$`),
        reason: 'Firehose generates object names under the records and errors prefixes, whose date parts are only known at delivery; the grant is limited to the records bucket',
      },
    ]);
  }

  /** The Glue table over `records/`: JSON SerDe, date and hour partitions projected over the retention. */
  private createTable(databaseName: string, tableName: string, retention: Duration): glue.CfnTable {
    const location = `s3://${this.bucket.bucketName}/${RECORDS_PREFIX}`;
    const days = retention.isUnresolved() ? MAX_RETENTION_DAYS : retention.toDays();
    return new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName,
      tableInput: {
        name: tableName,
        description: 'One row per inference and per outcome written by the modelship inference gateway',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          'classification': 'json',
          'compressionType': 'gzip',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `NOW-${days}DAYS,NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
        },
        partitionKeys: [{ name: 'dt', type: 'string' }, { name: 'hour', type: 'string' }],
        storageDescriptor: {
          location,
          compressed: true,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'false' },
          },
          columns: Object.entries(RECORD_COLUMNS).map(([name, type]) => ({ name: name.toLowerCase(), type })),
        },
      },
    });
  }

  /**
   * Ships the record lines of a log group (the inference gateway's) to the store, through a
   * subscription filter on `RECORD_FILTER_PATTERN`. A log group takes at most two filters.
   */
  public addSource(id: string, logGroup: logs.ILogGroup): logs.SubscriptionFilter {
    return new logs.SubscriptionFilter(this, id, {
      logGroup,
      destination: new LambdaDestination(this.shipper),
      filterPattern: logs.FilterPattern.literal(RECORD_FILTER_PATTERN),
    });
  }

  /**
   * Lets analysts read records (and decrypt them) and, with `analytics`, the Glue table's
   * definition, as Athena needs.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = this.bucket.grantRead(grantee, `${RECORDS_PREFIX}*`);
    if (!this.databaseName || !this.tableName) {
      return grant;
    }
    const stack = Stack.of(this);
    return grant.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${this.tableName}` }),
      ],
    }));
  }

  /**
   * Records the shipper delivered to Firehose.
   * @default Sum over 5 minutes
   */
  public metricRecordsDelivered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.shipperMetric(LOG_SHIPPER_METRICS.delivered, props);
  }

  /**
   * Records the shipper sent to the dead-letter queue (malformed, too large or undeliverable).
   * @default Sum over 5 minutes
   */
  public metricRecordsDeadLettered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.shipperMetric(LOG_SHIPPER_METRICS.deadLettered, props);
  }

  /**
   * Records the shipper sent to Firehose again after a failure.
   * @default Sum over 5 minutes
   */
  public metricDeliveryRetries(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.shipperMetric(LOG_SHIPPER_METRICS.retries, props);
  }

  private shipperMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: LOG_SHIPPER_METRICS.namespace,
      metricName,
      dimensionsMap: { service: LOG_SHIPPER_METRICS.service },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }
}
