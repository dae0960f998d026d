import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How long a created access-log bucket keeps logs and what happens to it with its stack. */
export interface AccessLogsBucketOptions {
  /** How long logs are kept before S3 expires them. */
  readonly retention: Duration;
  /** What happens to the bucket when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** Whether to empty the bucket before deleting it (only with `RemovalPolicy.DESTROY`). @default false */
  readonly autoDeleteObjects?: boolean;
}

/**
 * A bucket for S3 server access logs: encrypted with S3-managed keys (the only kind access
 * logging writes to), public access blocked, TLS only, logs expired after `retention`.
 */
export function accessLogsBucket(scope: Construct, id: string, options: AccessLogsBucketOptions): s3.Bucket {
  // Object ownership is left to CDK: it grants log delivery by bucket policy, or by ACL in
  // apps without the `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` flag.
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: options.retention }],
    removalPolicy: options.removalPolicy,
    autoDeleteObjects: options.autoDeleteObjects ?? false,
  });
}

/** What differs between modelship's data buckets. */
export interface EncryptedBucketOptions {
  /** The bucket's physical name. @default - a name CloudFormation generates */
  readonly bucketName?: string;
  /** The customer-managed key objects are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** Where S3 writes the bucket's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** The prefix of this bucket's access logs in that bucket. */
  readonly accessLogsPrefix: string;
  /** Expiry rules. */
  readonly lifecycleRules: s3.LifecycleRule[];
  /** What happens to the bucket when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** Whether to empty the bucket before deleting it (only with `RemovalPolicy.DESTROY`). @default false */
  readonly autoDeleteObjects?: boolean;
}

/**
 * A bucket for models or records: SSE-KMS with a bucket key, versioned, public access blocked,
 * TLS 1.2 or later only, objects owned by the bucket owner, server access logs on.
 */
export function encryptedBucket(scope: Construct, id: string, options: EncryptedBucketOptions): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName: options.bucketName,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: options.accessLogsBucket,
    serverAccessLogsPrefix: options.accessLogsPrefix,
    lifecycleRules: options.lifecycleRules,
    removalPolicy: options.removalPolicy,
    autoDeleteObjects: options.autoDeleteObjects ?? false,
  });
}
