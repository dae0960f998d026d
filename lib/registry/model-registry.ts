import { Duration, IResource, PhysicalName, RemovalPolicy, Resource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeOnGrantee, BUCKET_PUT_ACTIONS, BUCKET_READ_ACTIONS, KEY_ENCRYPT_DECRYPT_ACTIONS } from '../private/acknowledge-wildcards';
import { accessLogsBucket, encryptedBucket } from '../private/buckets';
import { MAX_RETENTION_DAYS, wholeDaysProblems } from '../private/duration-problems';
import { throwIfProblems } from '../runtime/errors';
import { ARTIFACT_WRITER_TAG, MODELS_PREFIX, modelArtifactKey } from './artifact-layout';
import { IModelPackageGroup, ModelPackageGroup, ModelPackageGroupProps } from './model-package-group';

/** Where one model version's artifact lives in a registry. */
export interface ModelArtifactLocation {
  /** The registry bucket's name. */
  readonly bucketName: string;
  /** The artifact's object key: `models/<model>/<version>/output/model.tar.gz`. */
  readonly key: string;
  /** The artifact's `s3://` URI, as SageMaker's `ModelDataUrl` expects it. */
  readonly s3Uri: string;
}

/** A model registry: an artifact bucket with a fixed layout, and a model package group. */
export interface IModelRegistry extends IResource {
  /** The bucket that holds model artifacts under `models/`. */
  readonly bucket: s3.IBucket;
  /**
   * The key that encrypts the bucket, when it is a KMS key.
   * @default - none known (an imported bucket without its key)
   */
  readonly encryptionKey?: kms.IKey;
  /** The model package group that new model versions are registered in. */
  readonly modelPackageGroup: IModelPackageGroup;

  /** Where a model version's artifact lives; rejects invalid model and version names. */
  artifactLocation(model: string, version: string): ModelArtifactLocation;

  /**
   * Lets the grantee read artifacts (and decrypt them) and describe registered model versions.
   * @param objectsKeyPattern the objects to read @default 'models/*'
   */
  grantRead(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;

  /**
   * Lets the grantee write artifacts (and encrypt them), as a training job does. It cannot
   * delete or overwrite history: the bucket keeps every version. A created registry accepts a
   * new artifact under `models/` only with `If-None-Match: *` (so an existing one is never
   * replaced), except from roles tagged `modelship:artifact-writer=training` (SageMaker training
   * roles: SageMaker's upload of a job's output sends no such header).
   * @param objectsKeyPattern the objects to write @default 'models/*'
   */
  grantWrite(grantee: iam.IGrantable, objectsKeyPattern?: string): iam.Grant;

  /** Lets the grantee register model package versions in the registry's model package group. */
  grantRegister(grantee: iam.IGrantable): iam.Grant;
}

/** Attributes to import a registry created in another stack or account. */
export interface ModelRegistryAttributes {
  /**
   * The artifact bucket. Import it with its key (`s3.Bucket.fromBucketAttributes(this, 'Bucket',
   * { bucketName, encryptionKey })`) so that grants include decryption.
   */
  readonly bucket: s3.IBucket;
  /** The model package group, e.g. from `ModelPackageGroup.fromModelPackageGroupArn`. */
  readonly modelPackageGroup: IModelPackageGroup;
}

/** Grants and the artifact layout shared by created and imported registries. */
export abstract class ModelRegistryBase extends Resource implements IModelRegistry {
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly modelPackageGroup: IModelPackageGroup;

  public get encryptionKey(): kms.IKey | undefined {
    return this.bucket.encryptionKey;
  }

  public artifactLocation(model: string, version: string): ModelArtifactLocation {
    const key = modelArtifactKey(model, version);
    return { bucketName: this.bucket.bucketName, key, s3Uri: this.bucket.s3UrlForObject(key) };
  }

  public grantRead(grantee: iam.IGrantable, objectsKeyPattern = `${MODELS_PREFIX}*`): iam.Grant {
    acknowledgeOnGrantee(grantee, [{
      actions: BUCKET_READ_ACTIONS,
      resources: [this.bucket.bucketArn, this.bucket.arnForObjects(objectsKeyPattern)],
      reason: `CDK's read grant names its S3 actions with wildcards; it covers the registry's ${objectsKeyPattern} only`,
    }]);
    return this.bucket.grantRead(grantee, objectsKeyPattern).combine(this.modelPackageGroup.grantRead(grantee));
  }

  public grantWrite(grantee: iam.IGrantable, objectsKeyPattern = `${MODELS_PREFIX}*`): iam.Grant {
    acknowledgeOnGrantee(grantee, [
      {
        actions: BUCKET_PUT_ACTIONS,
        resources: [this.bucket.arnForObjects(objectsKeyPattern)],
        reason: `Artifact names are generated per training run; the grant covers the registry's ${objectsKeyPattern} only`,
      },
      ...(this.encryptionKey
        ? [{ actions: KEY_ENCRYPT_DECRYPT_ACTIONS, resources: [this.encryptionKey.keyArn], reason: "KMS names the data-key actions only with a wildcard suffix; on the registry's key only" }]
        : []),
    ]);
    return this.bucket.grantPut(grantee, objectsKeyPattern);
  }

  public grantRegister(grantee: iam.IGrantable): iam.Grant {
    return this.modelPackageGroup.grantRegister(grantee);
  }
}

/** Properties of a {@link ModelRegistry}. */
export interface ModelRegistryProps {
  /**
   * The KMS key that encrypts artifacts.
   * @default - a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The model package group that model versions are registered in.
   * @default - a group with a generated name, readable by `readerAccounts`
   */
  readonly modelPackageGroup?: ModelPackageGroupProps;

  /**
   * Accounts (staging, production) allowed to read artifacts, decrypt them and read the model
   * package group, so they deploy from this registry instead of copies.
   * @default - only this account
   */
  readonly readerAccounts?: string[];

  /**
   * How long a replaced or deleted artifact version is kept before S3 expires it. Whole days.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * How long an unfinished multipart upload may stay before S3 removes its parts. Whole days.
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * The bucket that receives the registry bucket's server access logs.
   * @default - a new bucket, encrypted with S3-managed keys (the only kind S3 access logging writes to)
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * How long the created access-log bucket keeps logs. Whole days. Ignored with `accessLogsBucket`.
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;

  /**
   * Deletes the buckets, their objects and the key when the stack is deleted. For throw-away
   * development environments only: production artifacts must outlive their stack.
   * @default false - the buckets and key are retained
   */
  readonly destroyOnRemoval?: boolean;
}

/**
 * The single home of model artifacts and model versions: a versioned, KMS-encrypted,
 * TLS-only, access-logged bucket with a fixed layout whose artifacts are write-once, and a
 * SageMaker model package group.
 */
export class ModelRegistry extends ModelRegistryBase {
  /** Imports a registry created in another stack or account. */
  public static fromModelRegistryAttributes(scope: Construct, id: string, attrs: ModelRegistryAttributes): IModelRegistry {
    class Import extends ModelRegistryBase {
      public readonly bucket = attrs.bucket;
      public readonly modelPackageGroup = attrs.modelPackageGroup;
    }
    return new Import(scope, id, { environmentFromArn: attrs.modelPackageGroup.modelPackageGroupArn });
  }

  /** The bucket that holds model artifacts under `models/`. */
  public readonly bucket: s3.Bucket;
  /** The model package group that new model versions are registered in. */
  public readonly modelPackageGroup: ModelPackageGroup;
  /** The bucket that receives the registry bucket's server access logs. */
  public readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ModelRegistryProps = {}) {
    super(scope, id);
    const noncurrentVersionExpiration = props.noncurrentVersionExpiration ?? Duration.days(90);
    const abortIncompleteMultipartUploadAfter = props.abortIncompleteMultipartUploadAfter ?? Duration.days(7);
    const accessLogsRetention = props.accessLogsRetention ?? Duration.days(365);
    const readerAccounts = props.readerAccounts ?? [];
    throwIfProblems(`Invalid ModelRegistry '${this.node.path}'`, [
      ...wholeDaysProblems('noncurrentVersionExpiration', noncurrentVersionExpiration, MAX_RETENTION_DAYS),
      ...wholeDaysProblems('abortIncompleteMultipartUploadAfter', abortIncompleteMultipartUploadAfter, 365),
      ...wholeDaysProblems('accessLogsRetention', accessLogsRetention, MAX_RETENTION_DAYS),
      ...(props.modelPackageGroup?.readerAccounts ? [
        "Specify either 'readerAccounts' or 'modelPackageGroup.readerAccounts', not both: 'readerAccounts' covers the group too",
      ] : []),
    ]);

    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.accessLogsBucket = props.accessLogsBucket ?? accessLogsBucket(this, 'AccessLogs', {
      retention: accessLogsRetention,
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    const encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `Encrypts model artifacts in the modelship registry ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });

    this.bucket = encryptedBucket(this, 'Bucket', {
      // Generated at synthesis only when a stack of another account or region uses the registry.
      bucketName: PhysicalName.GENERATE_IF_NEEDED,
      encryptionKey,
      accessLogsBucket: this.accessLogsBucket,
      accessLogsPrefix: 'registry/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.modelPackageGroup = new ModelPackageGroup(this, 'ModelPackageGroup', {
      ...props.modelPackageGroup,
      readerAccounts,
    });

    // Write-once artifacts: S3 conditional writes, enforced by the bucket policy. A request to
    // create an object under models/ (PutObject, CompleteMultipartUpload) must carry
    // If-None-Match: *, which S3 refuses (412) when the key exists. The parts of a multipart
    // upload take no conditional header (s3:ObjectCreationOperation is false for them).
    // SageMaker's managed upload of a training job's output sends no such header, so the
    // training roles (tagged by TrainingPipeline) are exempt: their jobs write under names
    // SageMaker never reuses.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'RequireConditionalArtifactWrites',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects(`${MODELS_PREFIX}*`)],
      conditions: {
        'Null': { 's3:if-none-match': 'true' },
        'Bool': { 's3:ObjectCreationOperation': 'true' },
        'StringNotEquals': { [`aws:PrincipalTag/${ARTIFACT_WRITER_TAG.key}`]: ARTIFACT_WRITER_TAG.value },
      },
    }));

    for (const account of readerAccounts) {
      this.bucket.grantRead(new iam.AccountPrincipal(account), `${MODELS_PREFIX}*`);
    }
  }
}
