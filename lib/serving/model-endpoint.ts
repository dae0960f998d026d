import { Annotations, ArnFormat, CustomResource, Duration, IResource, Lazy, Names, RemovalPolicy, Resource, Size, SizeRoundingBehavior, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeExpectedWildcards } from '../private/acknowledge-wildcards';
import { notifyAlarmTopic } from '../private/alarm-topic';
import { formatValue, ModelshipError, throwIfProblems } from '../runtime/errors';
import { HandlerFunction } from '../private/handler-function';
import { grantVolumeKey, hasNvmeStorage } from '../private/instance-storage';
import { networkProblems, placeInVpc } from '../private/vpc-placement';
import { DeploymentStrategy } from './deployment-strategy';
import { BoundModel, EndpointModel, ModelBindOptions } from './endpoint-model';
import { InferenceInstanceType } from './inference-instance-type';
import { TrafficOwnership } from './traffic-ownership';
import { PRODUCTION_TAG } from '../release/rollout-record';

/** Serverless capacity of a variant. */
export interface ServerlessOptions {
  /** Memory: 1-6 GiB in whole GiB (a token must be in `Size.mebibytes`). */
  readonly memorySize: Size;
  /** Concurrent invocations: 1-200. */
  readonly maxConcurrency: number;
}

/** Target-tracking autoscaling of a variant's instance count. */
export interface VariantAutoScaling {
  /**
   * The fewest instances the variant may scale to.
   * @default 1
   */
  readonly minCapacity?: number;
  /** The most instances the variant may scale to. */
  readonly maxCapacity: number;
  /** The invocations per instance per minute to hold. */
  readonly targetInvocationsPerInstance: number;
  /**
   * How long after a scale-in the autoscaler waits before scaling in again.
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * How long after a scale-out the autoscaler waits before scaling out again.
   * @default Duration.minutes(1)
   */
  readonly scaleOutCooldown?: Duration;
}

/** A production or shadow variant. */
export interface VariantProps {
  /** The variant's name; keep it across model versions, or guardrails cannot apply. */
  readonly variantName: string;
  /** What the variant serves. */
  readonly model: EndpointModel;
  /**
   * The hosting instance type of a provisioned variant.
   * @default - none: required unless `serverless` is set
   */
  readonly instanceType?: InferenceInstanceType;
  /**
   * How many instances a provisioned variant starts with.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /**
   * Serverless capacity instead of provisioned instances.
   * @default - provisioned instances of `instanceType`
   */
  readonly serverless?: ServerlessOptions;
  /**
   * The variant's relative share of traffic when the endpoint is created.
   * @default 1
   */
  readonly initialWeight?: number;
  /**
   * Target-tracking autoscaling of the instance count.
   * @default - a fixed instance count
   */
  readonly autoScaling?: VariantAutoScaling;
}

/** Payload capture to S3, for analysis and to join predictions with outcomes by inference id. */
export interface DataCaptureOptions {
  /**
   * The bucket that receives the captured payloads.
   * @default - the registry bucket of the first variant's model
   */
  readonly bucket?: s3.IBucket;
  /**
   * The key prefix of the captured payloads.
   * @default 'data-capture/<endpoint name>/'
   */
  readonly prefix?: string;
  /**
   * The percentage of requests captured: 0-100.
   * @default 100
   */
  readonly samplingPercentage?: number;
  /**
   * Capture the requests.
   * @default true
   */
  readonly captureInput?: boolean;
  /**
   * Capture the responses.
   * @default true
   */
  readonly captureOutput?: boolean;
  /**
   * The key that encrypts the captured payloads.
   * @default - the bucket's key
   */
  readonly encryptionKey?: kms.IKey;
}

/** Properties of a {@link ModelEndpoint}. */
export interface ModelEndpointProps {
  /**
   * The endpoint's name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit.
   * @default - a unique name derived from the construct path, fixed at synthesis
   */
  readonly endpointName?: string;
  /** Production variants; several make an A/B endpoint. */
  readonly variants: VariantProps[];
  /**
   * A variant that receives a copy of the traffic; needs exactly one production variant.
   * @default - none
   */
  readonly shadowVariant?: VariantProps;
  /**
   * How each deploy moves traffic to the new endpoint config.
   * @default DeploymentStrategy.allAtOnce()
   */
  readonly strategy?: DeploymentStrategy;
  /**
   * The p99 model latency above which a variant alarms (and a deploy rolls back).
   * @default - no latency alarm
   */
  readonly latencyThreshold?: Duration;
  /**
   * Create the 5XX and model-error alarms per variant.
   * @default true
   */
  readonly defaultAlarms?: boolean;
  /**
   * More alarms (business metrics) that roll a deploy back.
   * @default - none
   */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
  /**
   * The endpoint serves production traffic: gradual strategies must have rollback alarms.
   * @default false
   */
  readonly production?: boolean;
  /**
   * Who owns variant weights and instance counts after the first deploy.
   * @default - the release process when there are several variants or autoscaling, else the deployment
   */
  readonly trafficOwnership?: TrafficOwnership;
  /**
   * Capture request and response payloads to S3.
   * @default - on for shadow endpoints, off otherwise
   */
  readonly dataCapture?: DataCaptureOptions;
  /**
   * Encrypts the instances' storage volumes; not for NVMe or serverless variants.
   * @default - AWS-managed
   */
  readonly volumeEncryptionKey?: kms.IKey;
  /**
   * Fail the deploy when the endpoint silently rolled back or failed.
   * @default true
   */
  readonly postDeployCheck?: boolean;
  /**
   * The VPC the models' containers reach your resources in; not for serverless variants.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` the models use: 1-16 private subnets (public ones are refused: SageMaker
   * gives its network interfaces no public address). Without a NAT gateway, the VPC needs an S3
   * gateway endpoint for the model artifacts.
   * @default - the VPC's private subnets with egress, else its isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The security groups of the models: 1-5; needs `vpc`.
   * @default - a new security group with all outbound traffic allowed
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Cut the models' containers off the network: they can make no outbound call, not even to AWS
   * services; SageMaker still downloads the artifacts. Works with or without `vpc`; not for
   * serverless variants.
   * @default false
   */
  readonly networkIsolation?: boolean;
  /**
   * The topic the endpoint's alarms (the default rollback alarms) notify, going into ALARM and
   * back to OK. Alarms passed in `rollbackAlarms` keep their own actions.
   * @default - no alarm action
   */
  readonly alarmTopic?: sns.ITopic;
}

/** One variant of an endpoint, for its metrics: from `endpoint.findVariant(name)`. */
export interface IEndpointVariant {
  /** The variant's name. */
  readonly variantName: string;
  /** The endpoint that serves the variant. */
  readonly endpoint: IModelEndpoint;

  /**
   * Any `AWS/SageMaker` metric of the variant.
   * @default - sum over 5 minutes (p99 for `ModelLatency`)
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests the variant received.
   * @default - sum over 5 minutes
   */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests the variant's model answered with a 5xx.
   * @default - sum over 5 minutes
   */
  metricInvocation5XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests the variant's model answered with a 4xx.
   * @default - sum over 5 minutes
   */
  metricInvocation4XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Requests the variant's model failed (non-2xx, socket errors, timeouts).
   * @default - sum over 5 minutes
   */
  metricModelErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * The variant's model latency, in microseconds.
   * @default - p99 over 5 minutes
   */
  metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** A SageMaker real-time endpoint. */
export interface IModelEndpoint extends IResource {
  /**
   * The endpoint's name.
   * @attribute
   */
  readonly endpointName: string;
  /**
   * The endpoint's ARN.
   * @attribute
   */
  readonly endpointArn: string;
  /**
   * The production variants' names, where known.
   * @default - unknown for an endpoint imported without them
   */
  readonly variantNames?: string[];
  /**
   * The model version each production variant serves, where known.
   * @default - unknown for an imported endpoint
   */
  readonly modelVersions?: Record<string, string>;

  /** Lets the grantee invoke the endpoint. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;

  /**
   * One variant of the endpoint, for its metrics. SageMaker publishes an endpoint's invocation
   * metrics per variant only (dimensions `EndpointName` and `VariantName`), so there are no
   * endpoint-wide ones.
   * @throws ModelshipError naming the known variants when the endpoint has no variant of that name
   */
  findVariant(variantName: string): IEndpointVariant;
}

/** Attributes to import an endpoint. */
export interface ModelEndpointAttributes {
  /** The endpoint's name. */
  readonly endpointName: string;
  /**
   * The production variants' names, which `findVariant` and the inference gateway need.
   * @default - unknown
   */
  readonly variantNames?: string[];
  /**
   * The account the endpoint is in.
   * @default - the importing stack's account
   */
  readonly account?: string;
  /**
   * The region the endpoint is in.
   * @default - the importing stack's region
   */
  readonly region?: string;
}

/** An `AWS/SageMaker` metric of one of an endpoint's variants; latency defaults to p99, counts to sums. */
function sageMakerMetric(metricName: string, dimensionsMap: Record<string, string>, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/SageMaker',
    metricName,
    dimensionsMap,
    statistic: metricName === 'ModelLatency' ? 'p99' : 'Sum',
    ...props,
  });
}

class EndpointVariant implements IEndpointVariant {
  constructor(public readonly endpoint: IModelEndpoint, public readonly variantName: string) {}

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return sageMakerMetric(metricName, { EndpointName: this.endpoint.endpointName, VariantName: this.variantName }, props);
  }

  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocations', props);
  }

  public metricInvocation5XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', props);
  }

  public metricInvocation4XXErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Invocation4XXErrors', props);
  }

  public metricModelErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('InvocationModelErrors', props);
  }

  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', props);
  }
}

/** Grants, metrics and variants shared by created and imported endpoints. */
export abstract class ModelEndpointBase extends Resource implements IModelEndpoint {
  public abstract readonly endpointName: string;
  public abstract readonly variantNames?: string[];

  /** In the endpoint's own account and region (an import's may differ from its stack's). */
  public get endpointArn(): string {
    return Stack.of(this).formatArn({
      service: 'sagemaker',
      account: this.env.account,
      region: this.env.region,
      resource: 'endpoint',
      resourceName: Token.isUnresolved(this.endpointName) ? this.endpointName : this.endpointName.toLowerCase(),
    });
  }

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }

  public findVariant(variantName: string): IEndpointVariant {
    const known = this.metricVariantNames();
    if (!known.includes(variantName)) {
      throw new ModelshipError(`Unknown variant of ModelEndpoint '${this.node.path}'`, [
        `'variantName' must be one of the endpoint's variants (${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : "none known: import the endpoint with 'variantNames'"}), got ${formatValue(variantName)}`,
      ]);
    }
    return new EndpointVariant(this, variantName);
  }

  /** The variants that publish metrics: the production variants, where known. */
  protected metricVariantNames(): readonly string[] {
    return this.variantNames ?? [];
  }
}

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_VARIANTS = 10;
const MAX_ROLLBACK_ALARMS = 10;

/**
 * A SageMaker real-time endpoint deployed by `cdk deploy` with guardrails: blue/green (all at
 * once, canary, linear) or rolling updates that roll back on alarms, shadow variants, data
 * capture, autoscaling, weights that deploys leave to the release process, and a post-deploy
 * check that fails the deploy if SageMaker silently rolled it back.
 */
export class ModelEndpoint extends ModelEndpointBase {
  /** Imports an endpoint by name. */
  public static fromModelEndpointName(scope: Construct, id: string, endpointName: string): IModelEndpoint {
    return ModelEndpoint.fromModelEndpointAttributes(scope, id, { endpointName });
  }

  /** Imports an endpoint; name its variants to use `findVariant`. */
  public static fromModelEndpointAttributes(scope: Construct, id: string, attrs: ModelEndpointAttributes): IModelEndpoint {
    class Import extends ModelEndpointBase {
      public readonly endpointName = attrs.endpointName;
      public readonly variantNames = attrs.variantNames;
    }
    return new Import(scope, id, { account: attrs.account, region: attrs.region });
  }

  public readonly endpointName: string;
  /** The role SageMaker runs the models as. */
  public readonly role: iam.Role;
  /** The endpoint config of this version (a generated name: every change replaces it). */
  public readonly endpointConfig: sagemaker.CfnEndpointConfig;
  /** The endpoint. */
  public readonly resource: sagemaker.CfnEndpoint;
  /** Who owns weights and instance counts after the first deploy. */
  public readonly trafficOwnership: TrafficOwnership;
  /** The alarms that roll a deploy back. */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The endpoint's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The production variants' names. */
  public readonly variantNames: string[];
  /** The model version each production variant serves (a model package ARN, or `<model>/<version>`). */
  public readonly modelVersions: Record<string, string>;
  /** The security groups of the models, when they run in a VPC. */
  public readonly securityGroups: ec2.ISecurityGroup[];
  /** The shadow variant's name, when there is one. */
  private readonly shadowVariantName?: string;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    // The generated name is a literal fixed at synthesis (alarms and the endpoint refer to each
    // other), so it needs the construct's path: it is produced once the construct exists.
    super(scope, id, { physicalName: props.endpointName ?? Lazy.string({ produce: () => this.endpointName }) });
    this.endpointName = props.endpointName ?? Names.uniqueResourceName(this, { maxLength: 63, separator: '-' });
    this.shadowVariantName = props.shadowVariant?.variantName;
    const strategy = props.strategy ?? DeploymentStrategy.allAtOnce();
    const variants = props.variants;
    this.variantNames = variants.map((v) => v.variantName);
    const autoscaled = variants.some((v) => v.autoScaling);
    this.trafficOwnership = props.trafficOwnership
      ?? (variants.length > 1 || autoscaled ? TrafficOwnership.RELEASE_PROCESS : TrafficOwnership.DEPLOYMENT);

    this.validate(props, strategy);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the models of the modelship endpoint ${this.endpointName}`,
    });
    this.grantModelTelemetry();
    const placement = props.vpc
      ? placeInVpc(this, props.vpc, props, this.role, { description: `Models of the modelship endpoint ${this.endpointName}`, selfIngress: false })
      : undefined;
    this.securityGroups = placement?.securityGroups ?? [];
    const network: ModelBindOptions = {
      vpcConfig: placement && { securityGroupIds: placement.securityGroups.map((sg) => sg.securityGroupId), subnets: placement.subnetIds },
      networkIsolation: props.networkIsolation,
    };

    const all = [...variants, ...(props.shadowVariant ? [props.shadowVariant] : [])];
    const bound = new Map<string, BoundModel>(all.map((v) => [v.variantName, v.model.bind(this, `Model${v.variantName}`, this.role, network)]));
    this.warnAboutIgnoredGuardrails(all, bound, strategy);
    this.modelVersions = Object.fromEntries(this.variantNames.map((v) => [v, bound.get(v)!.version]));

    const render = (v: VariantProps): sagemaker.CfnEndpointConfig.ProductionVariantProperty => ({
      variantName: v.variantName,
      modelName: bound.get(v.variantName)!.model.attrModelName,
      initialVariantWeight: v.initialWeight ?? 1,
      ...(v.serverless
        ? {
          serverlessConfig: {
            memorySizeInMb: v.serverless.memorySize.toMebibytes(),
            maxConcurrency: v.serverless.maxConcurrency,
          },
        }
        : { instanceType: v.instanceType?.name, initialInstanceCount: v.initialInstanceCount ?? 1 }),
    });

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'Config', {
      productionVariants: variants.map(render),
      shadowProductionVariants: props.shadowVariant ? [render(props.shadowVariant)] : undefined,
      dataCaptureConfig: this.dataCapture(props),
      kmsKeyId: props.volumeEncryptionKey?.keyArn,
    });
    grantVolumeKey(props.volumeEncryptionKey, this.role);

    const defaultAlarms = props.defaultAlarms ?? true ? this.createDefaultAlarms(props.latencyThreshold) : [];
    notifyAlarmTopic(props.alarmTopic, defaultAlarms);
    this.rollbackAlarms = [...defaultAlarms, ...(props.rollbackAlarms ?? [])];

    this.resource = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        ...strategy.render(),
        autoRollbackConfiguration: this.rollbackAlarms.length > 0
          ? { alarms: this.rollbackAlarms.map((a) => ({ alarmName: a.alarmName })) }
          : undefined,
      },
      ...this.trafficOwnership.render(),
      // Release managers' tools ask for a reason and a confirmation before changing it.
      ...(props.production ? { tags: [{ key: PRODUCTION_TAG, value: 'true' }] } : {}),
    });
    this.validateAlarmCount(props, strategy);

    for (const variant of variants.filter((v) => v.autoScaling)) {
      this.addAutoScaling(variant.variantName, variant.autoScaling!);
    }
    if (props.postDeployCheck ?? true) {
      this.addPostDeployCheck();
    }
    this.dashboard = this.createDashboard();
  }

  /** The production variants and the shadow variant, which publishes metrics too. */
  protected metricVariantNames(): readonly string[] {
    return this.shadowVariantName ? [...this.variantNames, this.shadowVariantName] : this.variantNames;
  }

  private validate(props: ModelEndpointProps, strategy: DeploymentStrategy): void {
    const { variants, shadowVariant } = props;
    const all = [...variants, ...(shadowVariant ? [shadowVariant] : [])];
    const names = all.map((v) => v.variantName);
    const problems: string[] = [];
    if (!Token.isUnresolved(this.endpointName) && !NAME.test(this.endpointName)) {
      problems.push(`'endpointName' must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, got ${formatValue(this.endpointName)}`);
    }
    if (variants.length < 1 || variants.length > MAX_VARIANTS) {
      problems.push(`'variants' must have between 1 and ${MAX_VARIANTS} production variants, got ${variants.length}`);
    }
    if (shadowVariant && variants.length !== 1) {
      problems.push(`'shadowVariant' needs exactly one production variant, got ${variants.length}`);
    }
    problems.push(...names.filter((n, i) => names.indexOf(n) !== i).map((n) => `'variantName' must be unique, got ${formatValue(n)} more than once`));
    for (const v of all) {
      problems.push(...this.variantProblems(v));
    }
    if (variants.length > 0 && variants.every((v) => v.initialWeight === 0)) {
      problems.push("'initialWeight' must be above 0 for at least one production variant, got 0 for all");
    }
    if (props.volumeEncryptionKey) {
      for (const v of all.filter((x) => x.serverless || (x.instanceType && hasNvmeStorage(x.instanceType.family)))) {
        problems.push(`'volumeEncryptionKey' is not allowed with variant '${v.variantName}' (${v.serverless ? 'serverless' : v.instanceType?.name}): its storage takes no volume key`);
      }
    }
    const serverless = all.filter((v) => v.serverless).map((v) => `'${v.variantName}'`);
    const networked = [...(props.vpc ? ["'vpc'"] : []), ...(props.networkIsolation ? ["'networkIsolation'"] : [])];
    if (serverless.length > 0 && networked.length > 0) {
      problems.push(`${networked.join(' and ')} ${networked.length > 1 ? 'are' : 'is'} not allowed with serverless variants (SageMaker Serverless Inference supports neither a VPC nor network isolation), got serverless variant${serverless.length > 1 ? 's' : ''} ${serverless.join(', ')}`);
    }
    problems.push(...networkProblems(props));
    if (props.latencyThreshold?.isUnresolved()) {
      problems.push(`'latencyThreshold' must be known at synthesis: the alarm threshold is in microseconds, which a token cannot be converted to, got a token`);
    }
    const capture = props.dataCapture;
    if (isResolved(capture?.samplingPercentage) && !(capture.samplingPercentage >= 0 && capture.samplingPercentage <= 100)) {
      problems.push(`'dataCapture.samplingPercentage' must be between 0 and 100, got ${capture.samplingPercentage}`);
    }
    if (capture && capture.captureInput === false && capture.captureOutput === false) {
      problems.push("'dataCapture' must capture input, output or both, got neither");
    }
    problems.push(...strategy.validate({
      instanceCounts: variants.filter((v) => !v.serverless).map((v) => v.initialInstanceCount ?? 1).filter((c) => !Token.isUnresolved(c)),
      serverless: variants.some((v) => v.serverless),
      variantCount: variants.length,
    }));
    throwIfProblems(`Invalid ModelEndpoint '${this.node.path}'`, problems);

    if (this.trafficOwnership.owner === 'deployment' && variants.some((v) => v.autoScaling)) {
      Annotations.of(this).addWarningV2('modelship:serving:deployOwnsScaledCounts',
        'The deployment owns instance counts, so every deploy resets what the autoscaler set: use TrafficOwnership.RELEASE_PROCESS');
    }
  }

  private variantProblems(v: VariantProps): string[] {
    const at = `variant '${v.variantName}'`;
    const problems: string[] = [];
    if (Token.isUnresolved(v.variantName) || !NAME.test(v.variantName)) {
      problems.push(`'variantName' must be a literal of 1-63 letters, digits and hyphens (it must stay the same across versions), got ${formatValue(v.variantName)}`);
    }
    if (!v.instanceType === !v.serverless) {
      problems.push(`Specify either 'instanceType' or 'serverless' for ${at}, not ${v.serverless ? 'both' : 'neither'}`);
    }
    const count = v.initialInstanceCount;
    if (isResolved(count) && (!Number.isInteger(count) || count < 1)) {
      problems.push(`'initialInstanceCount' of ${at} must be a whole number of at least 1, got ${formatValue(count)}`);
    }
    const weight = v.initialWeight;
    if (isResolved(weight) && !(weight >= 0)) {
      problems.push(`'initialWeight' of ${at} must be 0 or more, got ${formatValue(weight)}`);
    }
    if (v.serverless) {
      const { memorySize, maxConcurrency } = v.serverless;
      const gib = memorySize.isUnresolved() ? undefined : memorySize.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
      if (gib !== undefined && (!Number.isInteger(gib) || gib < 1 || gib > 6)) {
        problems.push(`'serverless.memorySize' of ${at} must be 1-6 GiB in whole GiB, got ${memorySize.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`);
      }
      if (isResolved(maxConcurrency) && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 200)) {
        problems.push(`'serverless.maxConcurrency' of ${at} must be an integer between 1 and 200, got ${maxConcurrency}`);
      }
      if (v.autoScaling) {
        problems.push(`'autoScaling' of ${at} is for provisioned instances; serverless variants scale themselves`);
      }
    }
    const scaling = v.autoScaling;
    if (scaling) {
      const min = scaling.minCapacity ?? 1;
      const max = scaling.maxCapacity;
      const wrongMin = isResolved(min) && (!Number.isInteger(min) || min < 1);
      const wrongMax = isResolved(max) && (!Number.isInteger(max) || max < 1 || (isResolved(min) && max < min));
      if (wrongMin || wrongMax) {
        problems.push(`'autoScaling' of ${at} must have whole capacities with 1 <= minCapacity <= maxCapacity, got ${min}-${max}`);
      }
      if (isResolved(scaling.targetInvocationsPerInstance) && !(scaling.targetInvocationsPerInstance > 0)) {
        problems.push(`'autoScaling.targetInvocationsPerInstance' of ${at} must be above 0, got ${scaling.targetInvocationsPerInstance}`);
      }
    }
    return problems;
  }

  private validateAlarmCount(props: ModelEndpointProps, strategy: DeploymentStrategy): void {
    const count = this.rollbackAlarms.length;
    throwIfProblems(`Invalid ModelEndpoint '${this.node.path}'`, [
      ...(count > MAX_ROLLBACK_ALARMS
        ? [`SageMaker accepts 1 to ${MAX_ROLLBACK_ALARMS} rollback alarms, got ${count} (the default alarms count: ${props.variants.length} variants x ${props.latencyThreshold ? 3 : 2}); set 'defaultAlarms' to false or pass fewer 'rollbackAlarms'`]
        : []),
      ...(props.production && strategy.name !== 'allAtOnce' && count === 0
        ? [`'${strategy.name}' in production needs at least one rollback alarm, got none: keep 'defaultAlarms' or pass 'rollbackAlarms'`]
        : []),
    ]);
  }

  private warnAboutIgnoredGuardrails(variants: VariantProps[], bound: Map<string, BoundModel>, strategy: DeploymentStrategy): void {
    if (strategy.name === 'allAtOnce') {
      return;
    }
    for (const v of variants) {
      const reason = v.instanceType?.ignoresGuardrails
        ? `runs on ${v.instanceType.name} (Inf1)`
        : bound.get(v.variantName)!.fromMarketplace ? 'serves an AWS Marketplace model' : undefined;
      if (reason) {
        Annotations.of(this).addWarningV2(`modelship:serving:guardrailsIgnored:${v.variantName}`,
          `Variant '${v.variantName}' ${reason}: SageMaker deploys it all at once without baking, ignoring the '${strategy.name}' strategy`);
      }
    }
  }

  private dataCapture(props: ModelEndpointProps): sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | undefined {
    const options = props.dataCapture ?? (props.shadowVariant ? {} : undefined);
    if (!options) {
      return undefined;
    }
    const registry = props.variants[0].model.registry;
    const bucket = options.bucket ?? registry.bucket;
    const prefix = options.prefix ?? `data-capture/${this.endpointName}/`;
    const key = options.encryptionKey ?? bucket.encryptionKey;
    bucket.grantPut(this.role, `${prefix}*`);
    options.encryptionKey?.grantEncrypt(this.role);
    return {
      enableCapture: true,
      initialSamplingPercentage: options.samplingPercentage ?? 100,
      destinationS3Uri: bucket.s3UrlForObject(prefix),
      kmsKeyId: key?.keyArn,
      captureOptions: [
        ...(options.captureInput ?? true ? [{ captureMode: 'Input' }] : []),
        ...(options.captureOutput ?? true ? [{ captureMode: 'Output' }] : []),
      ],
      captureContentTypeHeader: { jsonContentTypes: ['application/json'], csvContentTypes: ['text/csv'] },
    };
  }

  private createDefaultAlarms(latencyThreshold: Duration | undefined): cloudwatch.Alarm[] {
    const minute = { period: Duration.minutes(1) };
    return this.variantNames.map((name) => this.findVariant(name)).flatMap((variant) => [
      new cloudwatch.Alarm(this, `${variant.variantName}Errors5XX`, {
        alarmDescription: `${this.endpointName}/${variant.variantName}: the model answered with 5xx errors`,
        metric: variant.metricInvocation5XXErrors(minute),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, `${variant.variantName}ModelErrors`, {
        alarmDescription: `${this.endpointName}/${variant.variantName}: the model failed requests`,
        metric: variant.metricModelErrors(minute),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      ...(latencyThreshold ? [new cloudwatch.Alarm(this, `${variant.variantName}LatencyP99`, {
        alarmDescription: `${this.endpointName}/${variant.variantName}: p99 model latency above ${latencyThreshold.toHumanString()}`,
        metric: variant.metricModelLatency(minute),
        threshold: latencyThreshold.toMilliseconds() * 1000,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })] : []),
    ]);
  }

  private addAutoScaling(variantName: string, scaling: VariantAutoScaling): void {
    const target = new appscaling.ScalableTarget(this, `${variantName}Scaling`, {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${variantName}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: scaling.minCapacity ?? 1,
      maxCapacity: scaling.maxCapacity,
    });
    target.node.addDependency(this.resource);
    target.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: scaling.targetInvocationsPerInstance,
      scaleInCooldown: scaling.scaleInCooldown ?? Duration.minutes(5),
      scaleOutCooldown: scaling.scaleOutCooldown ?? Duration.minutes(1),
    });
  }

  /** A custom resource that fails the deploy if the endpoint failed or silently rolled back. */
  private addPostDeployCheck(): void {
    const description = `Checks that ${this.endpointName} serves the config each deploy asked for`;
    const onEvent = new HandlerFunction(this, 'CheckStart', { hook: 'endpoint-check', description, handler: 'onEvent' });
    const isComplete = new HandlerFunction(this, 'CheckWait', { hook: 'endpoint-check', description, handler: 'isComplete' });
    isComplete.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpoint'],
      resources: [this.endpointArn],
    }));
    const provider = new cr.Provider(this, 'CheckProvider', {
      onEventHandler: onEvent.function,
      isCompleteHandler: isComplete.function,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.hours(1),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'CheckWaiterLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN }),
        level: sfn.LogLevel.ALL,
      },
    });
    const check = new CustomResource(this, 'DeployCheck', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ModelshipEndpointCheck',
      properties: { EndpointName: this.endpointName, EndpointConfigName: this.endpointConfig.attrEndpointConfigName },
    });
    check.node.addDependency(this.resource);
    this.acknowledgeFrameworkFindings(provider);
  }

  private acknowledgeFrameworkFindings(provider: cr.Provider): void {
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The CDK Provider framework's own functions log with the basic execution role; they only relay deploy-time events",
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: "The Provider framework's waiter state machine does not expose X-Ray tracing; it only polls the check function",
    });
    acknowledgeExpectedWildcards(this, [
      {
        finding: /^Resource::<[^>]*Check(Start|Wait|Provider)[^>]*\.Arn>:\*$/,
        reason: "The Provider framework may invoke any version of this endpoint's own check functions",
      },
      {
        finding: /^Resource::\*$/,
        reason: 'cloudwatch:PutMetricData (held to the SageMaker namespaces by a condition), ecr:GetAuthorizationToken and the waiter\'s log delivery actions have no resource-level permissions',
      },
      {
        finding: /^Action::(s3:(GetObject|GetBucket|List|Abort)|kms:(GenerateDataKey|ReEncrypt))\*$/,
        reason: 'CDK read/write grants, held to the registry artifacts, the capture prefix and their key',
      },
      {
        finding: /^Resource::.+\/(models|data-capture)\/.*\*$/,
        reason: 'Model artifacts under the registry prefix, and captured payloads under this endpoint\'s capture prefix',
      },
      {
        finding: /^Resource::.+:model-package\/[^/]+\/\*$/,
        reason: 'SageMaker numbers model package versions; the wildcard covers the versions of one group',
      },
      {
        finding: /^Resource::.+:log-group:\/aws\/sagemaker\/Endpoints\/.+:\*$/,
        reason: "The endpoint's own log group and its streams, which SageMaker names per instance",
      },
    ]);
  }

  /** What a model container needs to write its logs and metrics, for this endpoint only. */
  private grantModelTelemetry(): void {
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      resources: [stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `/aws/sagemaker/Endpoints/${this.endpointName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['AWS/SageMaker', '/aws/sagemaker/*'] } },
    }));
  }

  private createDashboard(): cloudwatch.Dashboard {
    const minute = Duration.minutes(1);
    const variants = this.variantNames.map((name) => this.findVariant(name));
    const perVariant = (title: string, metric: (variant: IEndpointVariant, index: number) => cloudwatch.IMetric) => new cloudwatch.GraphWidget({
      title,
      width: 12,
      left: variants.map(metric),
    });
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.endpointName,
      widgets: [
        [
          perVariant('Invocations', (v) => v.metricInvocations({ label: v.variantName, period: minute })),
          perVariant('Model latency p99 (µs)', (v) => v.metricModelLatency({ label: `${v.variantName} p99`, period: minute })),
        ],
        [
          perVariant('Model latency p50 (µs)', (v) => v.metricModelLatency({ statistic: 'p50', label: `${v.variantName} p50`, period: minute })),
          perVariant('4XX / 5XX errors', (v, i) => new cloudwatch.MathExpression({
            expression: `e4v${i} + e5v${i}`,
            label: `${v.variantName} 4XX+5XX`,
            period: minute,
            usingMetrics: {
              [`e4v${i}`]: v.metricInvocation4XXErrors({ period: minute }),
              [`e5v${i}`]: v.metricInvocation5XXErrors({ period: minute }),
            },
          })),
        ],
        [
          perVariant('Model errors', (v) => v.metricModelErrors({ label: v.variantName, period: minute })),
          new cloudwatch.AlarmStatusWidget({ title: 'Rollback alarms', width: 12, alarms: this.rollbackAlarms }),
        ],
      ],
    });
  }
}

/** Whether a number is set and known at synthesis, so its range can be checked. */
function isResolved(value: number | undefined): value is number {
  return value !== undefined && !Token.isUnresolved(value);
}
