import {
  Annotations, Arn, ArnFormat, Duration, IResource, PhysicalName, RemovalPolicy, Resource, Size, SizeRoundingBehavior, Stack, Token, Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { formatValue, ModelshipError, throwIfProblems } from '../runtime/errors';
import { acknowledgeExpectedWildcards, escapeRegExp, ExpectedWildcard } from '../private/acknowledge-wildcards';
import { notifyAlarmTopic } from '../private/alarm-topic';
import { HandlerFunction } from '../private/handler-function';
import { grantVolumeKey, hasNvmeStorage } from '../private/instance-storage';
import { networkProblems, placeInVpc, VpcPlacement } from '../private/vpc-placement';
import { checkpointPrefix, modelPrefix, nameProblems } from '../registry/artifact-layout';
import { IModelRegistry } from '../registry/model-registry';
import { ContainerImage } from './container-image';
import { hasCapturingGroup } from './runtime/non-finite';
import { GATE_MISSED_ERROR, MetricThreshold, parseThreshold } from './runtime/quality-gate';
import { TrainingInstanceType } from './training-instance-type';

/** How SageMaker presents a channel's data to the container. */
export type TrainingInputMode = 'File' | 'Pipe' | 'FastFile';

/** One input channel: a dataset under an S3 prefix. */
export interface TrainingInput {
  /** The channel name the container sees (`/opt/ml/input/data/<name>`). */
  readonly channelName: string;
  /** The bucket that holds the dataset; read access to the prefix is granted. */
  readonly bucket: s3.IBucket;
  /** The dataset's key prefix, e.g. `datasets/churn/train/`. */
  readonly prefix: string;
  /**
   * The MIME type of the data, passed to the container.
   * @default - not set
   */
  readonly contentType?: string;
  /**
   * How the container reads the channel.
   * @default 'File'
   */
  readonly inputMode?: TrainingInputMode;
  /**
   * Whether each instance gets the whole dataset or a shard of its objects.
   * @default 'FullyReplicated'
   */
  readonly distribution?: 'FullyReplicated' | 'ShardedByS3Key';
  /**
   * How the objects are compressed.
   * @default 'None'
   */
  readonly compression?: 'None' | 'Gzip';
}

/** A metric parsed from the training log. */
export interface TrainingMetric {
  /** The metric's name, e.g. `validation:auc`. */
  readonly name: string;
  /** A regex whose first capturing group is the value, e.g. `val_auc=([0-9.]+)`. At most 500 characters. */
  readonly regex: string;
  /**
   * Stop the job and fail the run as soon as the log shows this metric at NaN or Infinity.
   * @default false
   */
  readonly failOnNonFinite?: boolean;
}

/** Managed spot training. */
export interface SpotOptions {
  /**
   * How long to wait for spot capacity plus train, at least `maxRuntime`.
   * @default - twice `maxRuntime`
   */
  readonly maxWait?: Duration;
}

/** How registered versions are served. */
export interface InferenceOptions {
  /**
   * The serving image; the role that serves the model must be able to pull it.
   * @default - the training image
   */
  readonly image?: ContainerImage;
  /**
   * The request content types the model accepts.
   * @default ['application/json']
   */
  readonly contentTypes?: string[];
  /**
   * The response content types the model returns.
   * @default ['application/json']
   */
  readonly responseTypes?: string[];
}

/** Starts a run when a dataset is complete. */
export interface NewDataTrigger {
  /** The dataset bucket; it must send its events to EventBridge (see `enableEventBridge`). */
  readonly bucket: s3.IBucket;
  /** The dataset prefix. */
  readonly prefix: string;
  /**
   * Only an object whose key ends with this starts a run, so a dataset of many files starts one.
   * @default '_SUCCESS'
   */
  readonly markerSuffix?: string;
  /**
   * Turn on the bucket's EventBridge notifications. Set it to false when the bucket sends them
   * already (created with `eventBridgeEnabled: true`, or configured outside the app); set it to
   * true to have CDK turn them on for an imported bucket.
   * @default - true for a bucket defined in the app; false for an imported bucket, with a warning
   * that it must send its events to EventBridge
   */
  readonly enableEventBridge?: boolean;
}

/** Approval status of newly registered versions. */
export type ModelApprovalStatus = 'PendingManualApproval' | 'Approved';

/** Properties of a {@link TrainingPipeline}. */
export interface TrainingPipelineProps {
  /** The model's registry name; it names the output prefix, checkpoints and job names. */
  readonly model: string;
  /** The registry that receives the trained artifact, checkpoints and model package. */
  readonly registry: IModelRegistry;
  /** The training container. */
  readonly image: ContainerImage;
  /** A GPU or accelerator instance type. */
  readonly instanceType: TrainingInstanceType;
  /**
   * The workflow's state machine name: 1-80 letters, digits and `+!@.()-=_'`.
   * @default - a name CloudFormation generates (CDK generates one at synthesis when a stack of
   * another account or region uses the pipeline)
   */
  readonly stateMachineName?: string;
  /**
   * Accept a CPU instance type.
   * @default false
   */
  readonly allowCpuInstance?: boolean;
  /**
   * How many instances each training job runs on: 1-100.
   * @default 1
   */
  readonly instanceCount?: number;
  /**
   * The storage volume of each instance: whole GiB, 1-16384 (a token must be in `Size.gibibytes`).
   * @default Size.gibibytes(50)
   */
  readonly volumeSize?: Size;
  /**
   * Encrypts the training volume. Not allowed on instance types with local NVMe storage,
   * which SageMaker encrypts in hardware.
   * @default - AWS-managed encryption
   */
  readonly volumeEncryptionKey?: kms.IKey;
  /**
   * Encrypts the trained artifact.
   * @default - the registry's key
   */
  readonly outputEncryptionKey?: kms.IKey;
  /**
   * The container's entry point: at most 100 items of 1-256 characters.
   * @default - the image's entry point
   */
  readonly entryPoint?: string[];
  /**
   * Arguments to the entry point: at most 100 items of 1-256 characters.
   * @default - none
   */
  readonly arguments?: string[];
  /**
   * Hyperparameters SageMaker passes to the container: at most 100, values up to 2500 characters.
   * @default - none
   */
  readonly hyperparameters?: Record<string, string>;
  /**
   * Environment variables of the training container: at most 100, values up to 512 characters.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /** The input channels: 1-20. */
  readonly inputs: TrainingInput[];
  /**
   * How long a job may train before SageMaker stops it: 1 second to 28 days. Known at synthesis,
   * as the workflow's timeout is derived from it.
   * @default Duration.hours(16)
   */
  readonly maxRuntime?: Duration;
  /**
   * Train on spot instances.
   * @default - on-demand instances
   */
  readonly spot?: SpotOptions;
  /**
   * Checkpoint to `checkpoints/<model>/<execution>/` in the registry bucket so an interrupted job resumes.
   * @default - true with spot, false without
   */
  readonly checkpoints?: boolean;
  /**
   * Metrics parsed from the training log: at most 40.
   * @default - none
   */
  readonly metrics?: TrainingMetric[];
  /**
   * How often the log is checked for metrics flagged `failOnNonFinite`: 1 minute to 1 hour.
   * @default Duration.minutes(5)
   */
  readonly nonFiniteCheckInterval?: Duration;
  /**
   * Thresholds on final metrics, e.g. `['validation:auc >= 0.85']`. A run that misses one fails
   * without registering.
   * @default - no gate
   */
  readonly qualityGate?: string[];
  /**
   * The approval status of newly registered versions.
   * @default 'PendingManualApproval'
   */
  readonly approvalStatus?: ModelApprovalStatus;
  /**
   * How registered versions are served.
   * @default - the training image, JSON in and out
   */
  readonly inference?: InferenceOptions;
  /**
   * The VPC the training jobs run in.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` the jobs use: 1-16 private subnets (public ones are refused: SageMaker
   * gives its network interfaces no public address). Without a NAT gateway, the VPC needs an S3
   * gateway endpoint for the inputs, artifact and checkpoints.
   * @default - the VPC's private subnets with egress, else its isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The security groups of the jobs: 1-5; needs `vpc`.
   * @default - a new security group with all outbound traffic allowed (and open to itself when the job has several instances)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Cut the training container off the network: it can make no outbound call, not even to AWS
   * services; SageMaker still reads the inputs and writes the artifact and checkpoints. Works
   * with or without `vpc`.
   * @default false
   */
  readonly networkIsolation?: boolean;
  /**
   * Encrypt the traffic between the job's instances.
   * @default - true when `instanceCount` is more than 1 or a token
   */
  readonly interContainerTrafficEncryption?: boolean;
  /**
   * Retrain on a schedule.
   * @default - no schedule
   */
  readonly schedule?: events.Schedule;
  /**
   * Retrain when a dataset is complete.
   * @default - no trigger on new data
   */
  readonly retrainOnNewData?: NewDataTrigger;
  /**
   * Also announce each run's outcome on this topic.
   * @default - EventBridge events only
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * The topic the pipeline's alarms notify, going into ALARM and back to OK.
   * @default - `notificationTopic`; no alarm action without either
   */
  readonly alarmTopic?: sns.ITopic;
}

/** A training pipeline: the workflow that trains a model and registers each version. */
export interface ITrainingPipeline extends IResource {
  /** The workflow, e.g. as an EventBridge target. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The ARN of the workflow's state machine, which `modelship train start` takes.
   * @attribute
   */
  readonly stateMachineArn: string;
  /**
   * The name of the workflow's state machine.
   * @attribute
   */
  readonly stateMachineName: string;

  /** Lets the grantee start runs (the CLI's `train start`). */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant;

  /** Lets the grantee list runs and follow them, with their training jobs (the CLI's `train list` and `train status`). */
  grantRead(grantee: iam.IGrantable): iam.Grant;

  /** Lets the grantee stop runs, reading each first (the CLI's `train stop`); Step Functions stops the training job. */
  grantStop(grantee: iam.IGrantable): iam.Grant;

  /**
   * Any `AWS/States` metric of the workflow.
   * @default - sum over 5 minutes
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Failed runs.
   * @default - sum over 5 minutes
   */
  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Successful runs.
   * @default - sum over 5 minutes
   */
  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * How long runs take, in milliseconds.
   * @default - average over 5 minutes
   */
  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** Attributes to import a training pipeline defined in another stack or app. */
export interface TrainingPipelineAttributes {
  /** The ARN of the workflow's state machine. */
  readonly stateMachineArn: string;
  /**
   * The model the pipeline trains (its `model` property), known at synthesis: it names the
   * training jobs, so `grantRead` covers only this pipeline's jobs.
   * @default - `grantRead` lets the grantee describe every training job in the pipeline's account and region
   */
  readonly model?: string;
}

/** The prefix of a model's training job names: `<prefix>-<32 hex characters>`, within SageMaker's 63. */
function jobNamePrefixOf(model: string): string {
  return model.slice(0, JOB_PREFIX_LENGTH).replace(/-+$/, '');
}

/**
 * Acknowledges, on the grantee's policies, the wildcards a grant needs: cdk-nag reports them on
 * the grantee, outside the pipeline's scope. The findings matched name this pipeline's resources.
 */
function acknowledgeGrantWildcards(grantee: iam.IGrantable, expected: ExpectedWildcard[]): void {
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    acknowledgeExpectedWildcards(grantee.grantPrincipal, expected);
  }
}

/** Grants and metrics shared by created and imported training pipelines. */
export abstract class TrainingPipelineBase extends Resource implements ITrainingPipeline {
  public abstract readonly stateMachine: sfn.IStateMachine;
  public abstract readonly stateMachineName: string;

  public get stateMachineArn(): string {
    return this.stateMachine.stateMachineArn;
  }

  /** Training job names start with this, followed by a hash of the execution; undefined when unknown (an import without `model`). */
  public abstract readonly jobNamePrefix?: string;

  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const list = iam.Grant.addToPrincipal({ grantee, actions: ['states:ListExecutions'], resourceArns: [this.stateMachineArn] });
    const executions = this.grantOnExecutions(grantee, ['states:DescribeExecution', 'states:GetExecutionHistory']);
    const jobNames = this.jobNamePrefix === undefined ? '*' : `${this.jobNamePrefix}-*`;
    const jobs = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:DescribeTrainingJob'],
      resourceArns: [Arn.format({ service: 'sagemaker', resource: 'training-job', resourceName: jobNames, account: this.env.account, region: this.env.region }, this.stack)],
    });
    acknowledgeGrantWildcards(grantee, [{
      finding: new RegExp(`:sagemaker:.+:training-job/${escapeRegExp(jobNames)}$`),
      reason: this.jobNamePrefix === undefined
        ? 'The training jobs of a pipeline imported without its model: their names are unknown here, so any job of the pipeline\'s account and region'
        : 'Training job names are generated per run (<prefix>-<hash of the execution>); the wildcard covers this pipeline\'s jobs only',
    }]);
    return list.combine(executions).combine(jobs);
  }

  public grantStop(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnExecutions(grantee, ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution']);
  }

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metric(metricName, props);
  }

  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }

  /**
   * Actions on every execution of the workflow,
   * `arn:<partition>:states:<region>:<account>:execution:<state machine name>:*` (executions are
   * named per run), in the pipeline's account and region.
   */
  private grantOnExecutions(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [Arn.format({
        service: 'states', resource: 'execution', resourceName: `${this.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        account: this.env.account, region: this.env.region,
      }, this.stack)],
    });
    const name = Token.isUnresolved(this.stateMachineName) ? '.+' : escapeRegExp(this.stateMachineName);
    acknowledgeGrantWildcards(grantee, [{
      finding: new RegExp(`:states:.+:execution:${name}:\\*$`),
      reason: 'Executions are named per run; the wildcard covers the executions of this pipeline\'s state machine only',
    }]);
    return grant;
  }
}

/** SageMaker's limits (CreateTrainingJob API reference). */
const MAX_RUNTIME = Duration.days(28);
const MAX_METRICS = 40;
const MAX_REGEX = 500;
const MAX_CHANNELS = 20;
const CHANNEL_NAME = /^[A-Za-z0-9.\-_]{1,64}$/;
/** Step Functions' rule for state machine names. */
const STATE_MACHINE_NAME = /^[a-z0-9+!@.()\-=_']{1,80}$/i;
const ENV_KEY = /^[a-zA-Z_][a-zA-Z0-9_]{0,511}$/;
/** Job names are `<prefix>-<32 hex characters>`, within SageMaker's 63. */
const JOB_PREFIX_LENGTH = 30;
const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
/** The construct id aws-cdk-lib gives its bucket-notification handler singleton, at the stack's root. */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';
const LOCAL_CHECKPOINTS = '/opt/ml/checkpoints';

/** The event source of the pipeline's EventBridge events. */
export const TRAINING_EVENT_SOURCE = 'modelship.training';

function mapProblems(property: string, map: Record<string, string> | undefined, maxEntries: number,
  keyRule: { test: (k: string) => boolean; text: string }, maxValue: number): string[] {
  const entries = Object.entries(map ?? {});
  return [
    ...(entries.length > maxEntries ? [`'${property}' may have at most ${maxEntries} entries, got ${entries.length}`] : []),
    ...entries.filter(([k]) => !Token.isUnresolved(k) && !keyRule.test(k)).map(([k]) => `'${property}' keys must be ${keyRule.text}, got ${formatValue(k)}`),
    ...entries.filter(([, v]) => typeof v !== 'string' || v.length > maxValue)
      .map(([k, v]) => `'${property}.${k}' must be a string of at most ${maxValue} characters, got ${formatValue(typeof v === 'string' ? `${v.length} characters` : v)}`),
  ];
}

function listProblems(property: string, list: string[] | undefined): string[] {
  return [
    ...((list?.length ?? 0) > 100 ? [`'${property}' may have at most 100 items, got ${list?.length}`] : []),
    ...(list ?? []).filter((a) => a.length === 0 || a.length > 256)
      .map((a) => `'${property}' items must be 1-256 characters, got ${formatValue(a)}`),
  ];
}

/**
 * A Step Functions workflow that trains a model on SageMaker GPUs and turns the result into a
 * registered model version: Train (spot, checkpoints, time budget, NaN watch) → Gate (final
 * metrics against thresholds) → Register (model package) → Notify (EventBridge, SNS).
 */
export class TrainingPipeline extends TrainingPipelineBase {
  /** Imports a pipeline by the ARN of its state machine, e.g. to start runs from another stack. */
  public static fromStateMachineArn(scope: Construct, id: string, stateMachineArn: string): ITrainingPipeline {
    return TrainingPipeline.fromTrainingPipelineAttributes(scope, id, { stateMachineArn });
  }

  /** Imports a pipeline defined in another stack or app. */
  public static fromTrainingPipelineAttributes(scope: Construct, id: string, attrs: TrainingPipelineAttributes): ITrainingPipeline {
    if (attrs.model !== undefined && Token.isUnresolved(attrs.model)) {
      throw new ModelshipError('Invalid TrainingPipeline attributes', ["'model' must be known at synthesis: it names the training jobs, got a token"]);
    }
    class Import extends TrainingPipelineBase {
      public readonly stateMachine: sfn.IStateMachine;
      public readonly stateMachineName: string;
      public readonly jobNamePrefix = attrs.model !== undefined ? jobNamePrefixOf(attrs.model) : undefined;

      constructor() {
        super(scope, id, { environmentFromArn: attrs.stateMachineArn });
        this.stateMachine = sfn.StateMachine.fromStateMachineArn(this, 'StateMachine', attrs.stateMachineArn);
        this.stateMachineName = Stack.of(this).splitArn(attrs.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName!;
      }
    }
    return new Import();
  }

  /** The workflow. */
  public readonly stateMachine: sfn.StateMachine;
  /** The name of the workflow's state machine. */
  public readonly stateMachineName: string;
  /** The role SageMaker assumes to run the training job. */
  public readonly trainingRole: iam.Role;
  /** The role the workflow runs as. */
  public readonly stateMachineRole: iam.IRole;
  /** The alarm that fires when a run fails. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The security groups of the training jobs, when they run in a VPC. */
  public readonly securityGroups: ec2.ISecurityGroup[];
  /** Training job names start with this, followed by a hash of the execution. */
  public readonly jobNamePrefix: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id, { physicalName: props.stateMachineName });
    const settings = this.validate(props);
    const { registry, model } = props;
    const stack = Stack.of(this);
    this.jobNamePrefix = jobNamePrefixOf(model);

    this.trainingRole = new iam.Role(this, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `SageMaker training jobs of the modelship pipeline ${this.node.path}`,
    });
    props.image.grantPull(this.trainingRole);
    for (const input of props.inputs) {
      input.bucket.grantRead(this.trainingRole, `${input.prefix}*`);
    }
    registry.grantWrite(this.trainingRole, `${modelPrefix(model)}*`);
    if (settings.checkpoints) {
      registry.grantWrite(this.trainingRole, `${checkpointPrefix(model)}*`);
      registry.bucket.grantRead(this.trainingRole, `${checkpointPrefix(model)}*`);
    }
    props.outputEncryptionKey?.grantEncrypt(this.trainingRole);
    grantVolumeKey(props.volumeEncryptionKey, this.trainingRole);
    this.grantTrainingTelemetry(this.trainingRole);

    const placement = props.vpc
      ? placeInVpc(this, props.vpc, props, this.trainingRole, { description: `Training jobs of ${this.node.path}`, selfIngress: settings.distributed })
      : undefined;
    this.securityGroups = placement?.securityGroups ?? [];

    const trainingJobArns = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: `${this.jobNamePrefix}-*`,
    });

    const nameRun = new sfn.Pass(this, 'NameRun', {
      comment: 'Derives the training job name and checkpoint location from the execution',
      parameters: {
        jobName: sfn.JsonPath.format(`${this.jobNamePrefix}-{}`, sfn.JsonPath.hash(sfn.JsonPath.executionId, 'MD5')),
        checkpointUri: sfn.JsonPath.format(
          `s3://${registry.bucket.bucketName}/${checkpointPrefix(model)}{}/`, sfn.JsonPath.executionName),
      },
      resultPath: '$.run',
    });

    const train = new sfn.CustomState(this, 'Train', {
      stateJson: {
        Type: 'Task',
        Comment: 'Runs the SageMaker training job and waits for it to end',
        Resource: `arn:${stack.partition}:states:::sagemaker:createTrainingJob.sync`,
        Parameters: this.trainingJobParameters(props, settings, placement),
      },
    });

    const branches: sfn.IChainable[] = [train];
    const watched = (props.metrics ?? []).filter((m) => m.failOnNonFinite);
    if (watched.length > 0) {
      branches.push(this.nonFiniteWatch(watched, settings.nonFiniteCheckInterval, trainingJobArns));
    }
    const runTraining = new sfn.Parallel(this, 'RunTraining', {
      comment: 'Trains, and stops the job early if a watched metric becomes NaN or Infinity',
      resultSelector: { 'job.$': '$[0]' },
      resultPath: '$.training',
    });
    for (const branch of branches) {
      runTraining.branch(branch);
    }

    const gateFunction = new HandlerFunction(this, 'GateFunction', {
      hook: 'training-gate',
      description: `Quality gate of the modelship training pipeline ${this.node.path}`,
    });
    const gate = new tasks.LambdaInvoke(this, 'Gate', {
      comment: 'Compares final metrics with the quality gate and prepares the model package',
      lambdaFunction: gateFunction.function,
      payload: sfn.TaskInput.fromObject({
        training: sfn.JsonPath.objectAt('$.training.job'),
        thresholds: settings.thresholds,
        registration: {
          model,
          inferenceImage: props.inference?.image?.imageUri,
          contentTypes: props.inference?.contentTypes ?? ['application/json'],
          responseTypes: props.inference?.responseTypes ?? ['application/json'],
          executionArn: sfn.JsonPath.executionId,
        },
      }),
      payloadResponseOnly: true,
      resultPath: '$.gate',
    });

    const register = new tasks.CallAwsService(this, 'Register', {
      comment: 'Registers the trained model as a new version in the model package group',
      service: 'sagemaker',
      action: 'createModelPackage',
      iamAction: 'sagemaker:CreateModelPackage',
      iamResources: [registry.modelPackageGroup.modelPackageGroupArn, registry.modelPackageGroup.modelPackageArns],
      parameters: {
        ModelPackageGroupName: registry.modelPackageGroup.modelPackageGroupName,
        ModelApprovalStatus: settings.approvalStatus,
        ModelPackageDescription: sfn.JsonPath.stringAt('$.gate.modelPackage.ModelPackageDescription'),
        InferenceSpecification: sfn.JsonPath.objectAt('$.gate.modelPackage.InferenceSpecification'),
        CustomerMetadataProperties: sfn.JsonPath.objectAt('$.gate.modelPackage.CustomerMetadataProperties'),
      },
      resultSelector: { 'ModelPackageArn.$': '$.ModelPackageArn' },
      resultPath: '$.registration',
    });

    const failed = this.notify('Failed', {
      model,
      status: 'FAILED',
      executionArn: sfn.JsonPath.executionId,
      trainingJobName: sfn.JsonPath.stringAt('$.run.jobName'),
      error: sfn.JsonPath.stringAt('$.error.Error'),
      cause: sfn.JsonPath.stringAt('$.error.Cause'),
    }, props.notificationTopic).next(new sfn.Fail(this, 'RunFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    }));
    const succeeded = this.notify('Succeeded', {
      model,
      status: 'SUCCEEDED',
      executionArn: sfn.JsonPath.executionId,
      trainingJobName: sfn.JsonPath.stringAt('$.run.jobName'),
      version: sfn.JsonPath.stringAt('$.run.jobName'),
      modelPackageArn: sfn.JsonPath.stringAt('$.registration.ModelPackageArn'),
      gate: sfn.JsonPath.objectAt('$.gate.results'),
    }, props.notificationTopic).next(new sfn.Succeed(this, 'Registered'));

    const missedGate = new sfn.Pass(this, 'GateMissed', {
      comment: 'Carries the metric values that missed the gate into the failure',
      parameters: {
        Error: GATE_MISSED_ERROR,
        Cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.gate.results')),
      },
      resultPath: '$.error',
    }).next(failed);

    runTraining.addCatch(failed, { resultPath: '$.error' });
    gate.addCatch(failed, { resultPath: '$.error' });
    register.addCatch(failed, { resultPath: '$.error' });

    const definition = nameRun
      .next(runTraining)
      .next(gate)
      .next(new sfn.Choice(this, 'PassedGate')
        .when(sfn.Condition.booleanEquals('$.gate.passed', true), register.next(succeeded))
        .otherwise(missedGate));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName ?? PhysicalName.GENERATE_IF_NEEDED,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Trains and registers ${model}`,
      timeout: settings.maxRuntime.plus(settings.maxWait ?? Duration.seconds(0)).plus(Duration.hours(1)),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'ExecutionLogs', {
          retention: logs.RetentionDays.ONE_YEAR,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    this.stateMachineName = this.stateMachine.stateMachineName;
    this.stateMachineRole = this.stateMachine.role;
    this.grantRunTrainingJobs(this.stateMachine, trainingJobArns);
    this.acknowledgeScopedWildcards(props);

    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `A run of the modelship training pipeline for ${model} failed or timed out`,
      // A run past the workflow's timeout counts as timed out, not failed: both alarm.
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut',
        usingMetrics: { failed: this.metricFailed(), timedOut: this.stateMachine.metricTimedOut() },
        label: 'Failed or timed-out runs',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyAlarmTopic(props.alarmTopic ?? props.notificationTopic, [this.failureAlarm]);

    this.addTriggers(props);
  }

  private validate(props: TrainingPipelineProps) {
    const problems: string[] = [];
    const maxRuntime = props.maxRuntime ?? Duration.hours(16);
    const maxWait = props.spot
      ? (props.spot.maxWait ?? (maxRuntime.isUnresolved() ? undefined : Duration.seconds(maxRuntime.toSeconds() * 2)))
      : undefined;
    const instanceCount = props.instanceCount ?? 1;
    const checkpoints = props.checkpoints ?? props.spot !== undefined;
    const volumeSize = props.volumeSize ?? Size.gibibytes(50);
    const nonFiniteCheckInterval = props.nonFiniteCheckInterval ?? Duration.minutes(5);

    if (!props.registry) {
      problems.push("'registry' is required: the trained artifact, its checkpoints and its model package go to a ModelRegistry");
    }
    problems.push(...Token.isUnresolved(props.model)
      ? ["'model' must be known at synthesis: it names the training jobs and their registry prefixes, got a token"]
      : nameProblems('model', props.model));
    const stateMachineName = props.stateMachineName;
    if (stateMachineName !== undefined && !Token.isUnresolved(stateMachineName) && !STATE_MACHINE_NAME.test(stateMachineName)) {
      problems.push(`'stateMachineName' must be 1-80 letters, digits and +!@.()-=_', got ${formatValue(stateMachineName)}`);
    }
    if (!props.instanceType.accelerated && !props.allowCpuInstance) {
      problems.push(`'instanceType' must be a GPU or accelerator type (g4dn, g5, g6, g6e, p3, p4d, p4de, p5, p5e, trn1, ...) unless 'allowCpuInstance' is true, got '${props.instanceType.name}'`);
    }
    if (!Token.isUnresolved(instanceCount) && (!Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > 100)) {
      problems.push(`'instanceCount' must be an integer between 1 and 100, got ${formatValue(instanceCount)}`);
    }
    const volumeGb = volumeSize.isUnresolved() ? undefined : volumeSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (volumeGb !== undefined && (!Number.isInteger(volumeGb) || volumeGb < 1 || volumeGb > 16384)) {
      problems.push(`'volumeSize' must be a whole number of GiB between 1 and 16384, got ${formatValue(volumeGb)} GiB`);
    }
    if (props.volumeEncryptionKey && hasNvmeStorage(props.instanceType.family)) {
      problems.push(`'volumeEncryptionKey' is not allowed with '${props.instanceType.name}': its NVMe instance storage is encrypted in hardware and SageMaker rejects a volume key`);
    }
    // The workflow's timeout adds these up: Duration arithmetic needs values known at synthesis.
    if (maxRuntime.isUnresolved()) {
      problems.push("'maxRuntime' must be known at synthesis: the workflow's timeout is derived from it, got a token");
    }
    if (props.spot?.maxWait?.isUnresolved()) {
      problems.push("'spot.maxWait' must be known at synthesis: the workflow's timeout is derived from it, got a token");
    }
    if (!maxRuntime.isUnresolved()) {
      const seconds = maxRuntime.toSeconds();
      if (seconds < 1 || seconds > MAX_RUNTIME.toSeconds()) {
        problems.push(`'maxRuntime' must be between 1 second and 28 days, got ${formatValue(maxRuntime.toHumanString())}`);
      }
      if (maxWait && !maxWait.isUnresolved() && maxWait.toSeconds() < seconds) {
        problems.push(`'spot.maxWait' must be at least 'maxRuntime' (${maxRuntime.toHumanString()}), got ${formatValue(maxWait.toHumanString())}`);
      }
    }
    if (props.spot && !checkpoints) {
      problems.push("'checkpoints' cannot be false with 'spot': an interrupted spot job resumes only from a checkpoint");
    }
    if (props.inputs.length < 1 || props.inputs.length > MAX_CHANNELS) {
      problems.push(`'inputs' must have between 1 and ${MAX_CHANNELS} channels, got ${props.inputs.length}`);
    }
    const channelNames = props.inputs.map((i) => i.channelName);
    problems.push(
      ...channelNames.filter((n) => !Token.isUnresolved(n) && !CHANNEL_NAME.test(n)).map((n) => `'inputs.channelName' must be 1-64 letters, digits, '.', '-' or '_', got ${formatValue(n)}`),
      ...duplicates(channelNames).map((n) => `'inputs.channelName' must be unique, got ${formatValue(n)} more than once`),
    );
    const metrics = props.metrics ?? [];
    if (metrics.length > MAX_METRICS) {
      problems.push(`'metrics' may have at most ${MAX_METRICS} definitions, got ${metrics.length}`);
    }
    const regexes = metrics.filter((m) => !Token.isUnresolved(m.regex));
    problems.push(
      ...duplicates(metrics.map((m) => m.name)).map((n) => `'metrics.name' must be unique, got ${formatValue(n)} more than once`),
      ...metrics.filter((m) => m.name.length < 1 || m.name.length > 255).map((m) => `'metrics.name' must be 1-255 characters, got ${formatValue(m.name)}`),
      ...regexes.filter((m) => m.regex.length < 1 || m.regex.length > MAX_REGEX)
        .map((m) => `'metrics.regex' of '${m.name}' must be 1-${MAX_REGEX} characters, got ${m.regex.length}`),
      ...regexes.filter((m) => !hasCapturingGroup(m.regex))
        .map((m) => `'metrics.regex' of '${m.name}' must have a capturing group for the value, got ${formatValue(m.regex)}`),
    );
    if (!nonFiniteCheckInterval.isUnresolved() && (nonFiniteCheckInterval.toSeconds() < 60 || nonFiniteCheckInterval.toSeconds() > 3600)) {
      problems.push(`'nonFiniteCheckInterval' must be between 1 minute and 1 hour, got ${formatValue(nonFiniteCheckInterval.toHumanString())}`);
    }
    const thresholds: MetricThreshold[] = [];
    for (const expression of props.qualityGate ?? []) {
      try {
        const threshold = parseThreshold(expression);
        thresholds.push(threshold);
        if (!metrics.some((m) => m.name === threshold.metric)) {
          problems.push(`'qualityGate' refers to '${threshold.metric}', which is not in 'metrics' (declared: ${metrics.map((m) => m.name).join(', ') || 'none'})`);
        }
      } catch (e) {
        if (!(e instanceof ModelshipError)) {
          throw e;
        }
        problems.push(...e.problems);
      }
    }
    problems.push(
      ...mapProblems('hyperparameters', props.hyperparameters, 100, { test: (k) => k.length >= 1 && k.length <= 256, text: '1-256 characters' }, 2500),
      ...mapProblems('environment', props.environment, 100, { test: (k) => ENV_KEY.test(k), text: 'environment variable names ([a-zA-Z_][a-zA-Z0-9_]*, at most 512 characters)' }, 512),
      ...listProblems('entryPoint', props.entryPoint),
      ...listProblems('arguments', props.arguments),
    );
    problems.push(...networkProblems(props));
    throwIfProblems(`Invalid TrainingPipeline '${this.node.path}'`, problems);

    /** Whether jobs may run on several instances, which then talk to each other. */
    const distributed = Token.isUnresolved(instanceCount) || instanceCount > 1;
    return {
      maxRuntime,
      maxWait,
      instanceCount,
      checkpoints,
      volumeSize,
      nonFiniteCheckInterval,
      thresholds,
      approvalStatus: props.approvalStatus ?? 'PendingManualApproval',
      distributed,
      interContainerTrafficEncryption: props.interContainerTrafficEncryption ?? distributed,
    };
  }

  private trainingJobParameters(props: TrainingPipelineProps, settings: ReturnType<TrainingPipeline['validate']>, placement: VpcPlacement | undefined) {
    const { registry } = props;
    const outputKey = props.outputEncryptionKey ?? registry.encryptionKey;
    return {
      'TrainingJobName.$': '$.run.jobName',
      'RoleArn': this.trainingRole.roleArn,
      'AlgorithmSpecification': {
        TrainingImage: props.image.imageUri,
        TrainingInputMode: 'File',
        ContainerEntrypoint: props.entryPoint,
        ContainerArguments: props.arguments,
        MetricDefinitions: props.metrics?.length
          ? props.metrics.map((m) => ({ Name: m.name, Regex: m.regex }))
          : undefined,
        EnableSageMakerMetricsTimeSeries: props.metrics?.length ? true : undefined,
      },
      'HyperParameters': props.hyperparameters,
      'Environment': props.environment,
      'InputDataConfig': props.inputs.map((input) => ({
        ChannelName: input.channelName,
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: input.bucket.s3UrlForObject(input.prefix),
            S3DataDistributionType: input.distribution ?? 'FullyReplicated',
          },
        },
        ContentType: input.contentType,
        InputMode: input.inputMode ?? 'File',
        CompressionType: input.compression ?? 'None',
      })),
      'OutputDataConfig': {
        S3OutputPath: registry.bucket.s3UrlForObject(modelPrefix(props.model)),
        KmsKeyId: outputKey?.keyArn,
      },
      'ResourceConfig': {
        InstanceType: props.instanceType.name,
        InstanceCount: settings.instanceCount,
        VolumeSizeInGB: settings.volumeSize.toGibibytes(),
        VolumeKmsKeyId: props.volumeEncryptionKey?.keyArn,
      },
      'StoppingCondition': {
        MaxRuntimeInSeconds: settings.maxRuntime.toSeconds(),
        MaxWaitTimeInSeconds: settings.maxWait?.toSeconds(),
      },
      'EnableManagedSpotTraining': props.spot !== undefined,
      'CheckpointConfig': settings.checkpoints
        ? { 'S3Uri.$': '$.run.checkpointUri', 'LocalPath': LOCAL_CHECKPOINTS }
        : undefined,
      'VpcConfig': placement
        ? { SecurityGroupIds: placement.securityGroups.map((sg) => sg.securityGroupId), Subnets: placement.subnetIds }
        : undefined,
      'EnableNetworkIsolation': props.networkIsolation ?? false,
      'EnableInterContainerTrafficEncryption': settings.interContainerTrafficEncryption,
      'Tags': [
        { Key: 'modelship:model', Value: props.model },
        { 'Key': 'modelship:execution', 'Value.$': '$$.Execution.Id' },
      ],
    };
  }

  /** A loop that looks at the job's log every interval and stops the job on NaN or Infinity. */
  private nonFiniteWatch(metrics: TrainingMetric[], interval: Duration, trainingJobArns: string): sfn.IChainable {
    const watchFunction = new HandlerFunction(this, 'WatchFunction', {
      hook: 'training-watch',
      description: `Stops training jobs of ${this.node.path} whose metrics become NaN or Infinity`,
      timeout: Duration.minutes(1),
    });
    watchFunction.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
      resources: [trainingJobArns],
    }));
    // FilterLogEvents is authorized on the log group; the handler reads only this job's streams.
    watchFunction.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:FilterLogEvents'],
      resources: [Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${TRAINING_LOG_GROUP}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
    }));

    const start = new sfn.Pass(this, 'StartWatch', { result: sfn.Result.fromObject({ state: 'RUNNING', cursor: 0 }), resultPath: '$.watch' });
    const wait = new sfn.Wait(this, 'WaitBeforeLooking', { time: sfn.WaitTime.duration(interval) });
    const look = new tasks.LambdaInvoke(this, 'LookForNonFinite', {
      comment: 'Reads new log lines; stops the job if a watched metric is NaN or Infinity',
      lambdaFunction: watchFunction.function,
      payload: sfn.TaskInput.fromObject({
        trainingJobName: sfn.JsonPath.stringAt('$.run.jobName'),
        metrics: metrics.map((m) => ({ name: m.name, regex: m.regex })),
        cursor: sfn.JsonPath.numberAt('$.watch.cursor'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.watch',
    });
    return start.next(wait).next(look).next(new sfn.Choice(this, 'MetricsFinite')
      .when(sfn.Condition.stringEquals('$.watch.state', 'NON_FINITE'), new sfn.Fail(this, 'NonFiniteMetric', {
        error: 'Modelship.NonFiniteMetric',
        causePath: sfn.JsonPath.format('{} is not finite; the job was stopped. Log line: {}',
          sfn.JsonPath.stringAt('$.watch.metric'), sfn.JsonPath.stringAt('$.watch.line')),
      }))
      .when(sfn.Condition.stringEquals('$.watch.state', 'DONE'), new sfn.Succeed(this, 'TrainingEnded'))
      .otherwise(wait));
  }

  /** EventBridge event (and SNS message) for the end of a run. */
  private notify(outcome: 'Succeeded' | 'Failed', detail: Record<string, unknown>, topic?: sns.ITopic): sfn.Chain {
    const event = new tasks.EventBridgePutEvents(this, `Publish${outcome}`, {
      entries: [{
        source: TRAINING_EVENT_SOURCE,
        detailType: `Modelship Training ${outcome}`,
        detail: sfn.TaskInput.fromObject(detail),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    if (!topic) {
      return sfn.Chain.start(event);
    }
    return event.next(new tasks.SnsPublish(this, `Notify${outcome}`, {
      topic,
      subject: `modelship training ${outcome.toLowerCase()}`,
      message: sfn.TaskInput.fromObject(detail),
      resultPath: sfn.JsonPath.DISCARD,
    }));
  }

  /** What a training container needs to write logs and metrics (SageMaker's documented minimum). */
  private grantTrainingTelemetry(role: iam.Role): void {
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      resources: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: TRAINING_LOG_GROUP, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${TRAINING_LOG_GROUP}:log-stream:${this.jobNamePrefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
    }));
  }

  /** What the `createTrainingJob.sync` integration needs: the job, its tags, the role and the managed rule. */
  private grantRunTrainingJobs(stateMachine: sfn.StateMachine, trainingJobArns: string): void {
    const stack = Stack.of(this);
    stateMachine.addToRolePolicy(new iam.PolicyStatement({
      actions: ['sagemaker:AddTags', 'sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
      resources: [trainingJobArns],
    }));
    stateMachine.addToRolePolicy(new iam.PolicyStatement({
      actions: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
      resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule' })],
    }));
    this.trainingRole.grantPassRole(stateMachine.role);
  }

  /** Each wildcard left is as narrow as AWS allows; say why, kind by kind. */
  private acknowledgeScopedWildcards(props: TrainingPipelineProps): void {
    const objectPrefixes = [modelPrefix(props.model), checkpointPrefix(props.model), ...props.inputs.map((i) => i.prefix)]
      .map((prefix) => escapeRegExp(`/${prefix}*`));
    const job = escapeRegExp(`${this.jobNamePrefix}-*`);
    acknowledgeExpectedWildcards(this, [
      {
        finding: new RegExp(`^Resource::.+(${objectPrefixes.join('|')})$`),
        reason: "Objects under this model's registry prefixes and the declared dataset prefixes only",
      },
      {
        finding: new RegExp(`^Resource::.+:(training-job/|log-group:${escapeRegExp(TRAINING_LOG_GROUP)}:log-stream:)${job}$`),
        reason: 'Training job names are generated per run (<prefix>-<hash of the execution>); the wildcard covers this pipeline\'s jobs and their log streams only',
      },
      {
        finding: new RegExp(`^Resource::.+:log-group:${escapeRegExp(`${TRAINING_LOG_GROUP}:*`)}$`),
        reason: 'logs:FilterLogEvents is authorized on the whole log group SageMaker writes every training job to; the watch reads only this job\'s streams',
      },
      {
        finding: /^Resource::.+:model-package\/[^/]+\/\*$/,
        reason: 'SageMaker numbers model package versions at registration; the wildcard covers the versions of one group',
      },
      {
        finding: /^Resource::<[^>]*(GateFunction|WatchFunction)[^>]*\.Arn>:\*$/,
        reason: "Step Functions' Lambda integration may invoke any version of this pipeline's own functions",
      },
      {
        finding: /^Resource::\*$/,
        reason: 'Actions without resource-level permissions: X-Ray and log delivery for the state machine, cloudwatch:PutMetricData (held to the SageMaker namespace by a condition), ecr:GetAuthorizationToken',
      },
      {
        finding: /^Action::(s3:(GetObject|GetBucket|List|Abort)|kms:(GenerateDataKey|ReEncrypt))\*$/,
        reason: 'CDK read/write grants, held to the prefixes and keys above',
      },
    ]);
  }

  /**
   * Acknowledges the managed policy of CDK's bucket-notification handler, a stack singleton that
   * `enableEventBridgeNotification` creates. aws-cdk-lib exports neither the handler nor a
   * handle on it, and the finding sits on its role, outside any scope of ours: the singleton's
   * construct id (the one aws-cdk-lib gives it) is the narrowest way to reach it.
   */
  private acknowledgeNotificationHandler(bucket: s3.IBucket): void {
    const handler = Stack.of(bucket).node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's bucket-notification custom resource writes its logs with the basic execution role; it runs only at deploy time",
      });
    }
  }

  private addTriggers(props: TrainingPipelineProps): void {
    if (props.schedule) {
      new events.Rule(this, 'Schedule', {
        description: `Retrains ${props.model} on a schedule`,
        schedule: props.schedule,
        targets: [new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ trigger: 'schedule' }),
        })],
      });
    }
    const trigger = props.retrainOnNewData;
    if (trigger) {
      const marker = trigger.markerSuffix ?? '_SUCCESS';
      const enableEventBridge = trigger.enableEventBridge ?? Resource.isOwnedResource(trigger.bucket);
      if (enableEventBridge) {
        trigger.bucket.enableEventBridgeNotification();
        this.acknowledgeNotificationHandler(trigger.bucket);
      } else if (trigger.enableEventBridge === undefined) {
        Annotations.of(this).addWarningV2('modelship:training:newDataEvents',
          "Enable EventBridge notifications on the dataset bucket: 'retrainOnNewData' listens for its Object Created events. "
          + "Set 'retrainOnNewData.enableEventBridge' to true to have CDK enable them, or to false if the bucket sends them already");
      }
      new events.Rule(this, 'NewData', {
        description: `Retrains ${props.model} when a dataset under ${trigger.prefix} is complete (${marker})`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [trigger.bucket.bucketName] },
            object: { key: events.Match.wildcard(`${trigger.prefix}*${marker}`) },
          },
        },
        targets: [new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            trigger: 'new-data',
            object: events.EventField.fromPath('$.detail.object.key'),
          }),
        })],
      });
    }
  }
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}
