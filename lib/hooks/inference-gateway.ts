import { ArnFormat, Duration, IResource, Names, RemovalPolicy, Resource, Size, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeExpectedWildcards, KEY_ENCRYPT_DECRYPT_ACTIONS } from '../private/acknowledge-wildcards';
import { encryptedLogGroup } from '../private/log-encryption';
import { wholeSecondsProblems } from '../private/duration-problems';
import { formatValue, ModelshipError, throwIfProblems } from '../runtime/errors';
import { HandlerFunction } from '../private/handler-function';
import { IModelEndpoint } from '../serving/model-endpoint';
import { GatewayAuth } from './gateway-auth';
import { GATEWAY_ROUTES, GatewayPermission, OUTCOME_TYPE, OUTCOME_TYPE_RULE } from './runtime/gateway-request';
import {
  DEFAULT_MAX_OUTCOME_VALUE, DEFAULT_OUTCOME_TYPES, GATEWAY_METRICS, GATEWAY_SETTINGS_VARIABLE, GatewaySettings, MAX_OUTCOME_TYPES, MAX_OUTCOME_VALUE_LIMIT,
  minKeyRotationDays,
} from './runtime/gateway-settings';
import { GATEWAY_METRIC_NAMES } from '../release/metric-queries';
import { IInferenceLogStore, InferenceLogStore } from './inference-log-store';


/** How long outcomes are accepted unless the props say otherwise. */
const DEFAULT_OUTCOME_WINDOW = Duration.days(7);
/** The HTTP API's one stage: grants name it, so a pattern for one route cannot match another's path. */
const STAGE = '$default';
/** Request rate limits of the gateway's stage. */
export interface GatewayThrottle {
  /** Steady-state requests per second, 1-10000. */
  readonly rateLimit: number;
  /** Requests allowed in a burst, 1-5000. */
  readonly burstLimit: number;
}

/** Properties of an `InferenceGateway`. */
export interface InferenceGatewayProps {
  /** The endpoint behind the gateway; its variant names must be known (a `ModelEndpoint`, or an import that names them). */
  readonly endpoint: IModelEndpoint;
  /**
   * The HTTP API's name.
   * @default - a name unique in the app, generated from the construct path
   */
  readonly gatewayName?: string;
  /**
   * How callers authenticate.
   * @default GatewayAuth.iam()
   */
  readonly auth?: GatewayAuth;
  /**
   * Stage-wide request limits.
   * @default - 100 requests per second, bursts of 200
   */
  readonly throttle?: GatewayThrottle;
  /**
   * Largest request body accepted (413 above it), 1 KiB-5 MiB; a token must be in bytes (`Size.bytes(token)`).
   * @default Size.mebibytes(1)
   */
  readonly maxPayloadSize?: Size;
  /**
   * How long the endpoint's weights are cached for sticky assignment, 1-300 s; a token must be in seconds.
   * @default Duration.seconds(10)
   */
  readonly weightsCacheTtl?: Duration;
  /**
   * Mixed into sticky assignment; change it to reshuffle units between experiments.
   * @default - the endpoint's name
   */
  readonly assignmentSalt?: string;
  /**
   * Share of inference records that keep the request and response bodies, 0-1.
   * @default 0.1
   */
  readonly bodySampleRate?: number;
  /**
   * JSON fields whose values are redacted from recorded bodies, at any depth, case-insensitive.
   * @default - none
   */
  readonly redactFields?: string[];
  /**
   * Recorded bodies larger than this are left out of the record, 1-100 KiB; a token must be in bytes.
   * @default Size.kibibytes(64)
   */
  readonly maxRecordedBodySize?: Size;
  /**
   * How long after a prediction its outcomes are accepted, 1 minute-90 days; a token must be in seconds.
   * @default Duration.days(7)
   */
  readonly outcomeWindow?: Duration;
  /**
   * Outcome types the gateway accepts and publishes experiment metrics for; a release controller's policy must name one of them.
   * 1 to 10 types, each 1-64 letters, digits or `_.:-`. Outcomes of other types are refused (400 `UnknownOutcomeType`): each type
   * would be a new metric dimension.
   * @default ['purchase']
   */
  readonly outcomeTypes?: string[];
  /**
   * The largest outcome `value` accepted, in absolute terms (1 to 1e15): larger ones are refused, so sums of squares stay finite.
   * @default 1_000_000_000
   */
  readonly maxOutcomeValue?: number;
  /**
   * Where records land; share one store between gateways.
   * @default - a new `InferenceLogStore`
   */
  readonly logStore?: IInferenceLogStore;
  /**
   * How often the signing key rotates: whole days, at least the outcome window and 5 minutes (rounded up to days) plus a day, at
   * most 1000 days; not a token. The previous key verifies the ids it signed until the next rotation, keys are cached for 5
   * minutes, and a scheduled rotation may come up to a day early.
   * @default - 30 days, or the shortest interval allowed when that is longer
   */
  readonly signingKeyRotation?: Duration;
  /**
   * The topic the alarms of the log store the gateway creates notify (a `logStore` you pass keeps its own).
   * @default - no alarm action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Encrypts the signing key, the outcome table and the gateway's log groups (access log and the
   * handlers' logs, which hold sampled request and response bodies); its policy is extended to let
   * CloudWatch Logs use it.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Memory of the invocation function, in MiB (CPU grows with it), 256-10240.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * What happens to the signing key and the outcome table when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What callers, dashboards and a release controller need of an inference gateway. */
export interface IInferenceGateway extends IResource {
  /**
   * The HTTP API's id.
   * @attribute
   */
  readonly apiId: string;
  /** The gateway's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  readonly url: string;
  /** The endpoint behind the gateway. */
  readonly endpoint: IModelEndpoint;
  /**
   * Outcome types the gateway publishes experiment metrics for (a release controller reads only these).
   * @default - unknown for an import that does not name them
   */
  readonly outcomeTypes?: readonly string[];
  /** How long after a prediction its outcomes are accepted: a release controller's default attribution window. */
  readonly outcomeWindow: Duration;
  /** Lets an IAM principal ask for predictions, the gateway picking the variant: `POST /invocations` only (IAM authentication). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
  /** Lets an IAM principal ask for predictions from a variant it names: `POST /variants/{variant}/invocations` only (IAM authentication). */
  grantForceVariant(grantee: iam.IGrantable): iam.Grant;
  /**
   * Lets an IAM principal report outcomes: `POST /outcomes` only (IAM authentication). The first report per id and type counts,
   * so give it to a trusted outcome source, not to every client that invokes.
   */
  grantReportOutcomes(grantee: iam.IGrantable): iam.Grant;
  /** The gateway's metrics of one of the endpoint's variants. */
  findVariant(variantName: string): IGatewayVariant;
}

/** Attributes to import an inference gateway defined in another stack or app. */
export interface InferenceGatewayAttributes {
  /** The HTTP API's id (`InferenceGateway.apiId`). */
  readonly apiId: string;
  /** The endpoint behind the gateway, with its variant names (`ModelEndpoint.fromModelEndpointAttributes({ endpointName, variantNames })`). */
  readonly endpoint: IModelEndpoint;
  /**
   * The outcome types the gateway publishes experiment metrics for (`InferenceGateway.outcomeTypes`).
   * @default - unknown: a release controller cannot check its policy's outcome type against them
   */
  readonly outcomeTypes?: string[];
  /**
   * How long after a prediction the gateway accepts its outcomes (`InferenceGateway.outcomeWindow`).
   * @default Duration.days(7) - the construct's default
   */
  readonly outcomeWindow?: Duration;
}

/** One of the endpoint's variants, as the inference gateway measures it. */
export interface IGatewayVariant {
  /** The variant's name. */
  readonly variantName: string;
  /**
   * Requests the gateway sent to the variant, successful or failed (error rate = errors / invocations).
   * @default - sum over 5 minutes
   */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Requests sent to the variant that failed (a subset of its invocations).
   * @default - sum over 5 minutes
   */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Time spent in the gateway, in milliseconds.
   * @default - p99 over 5 minutes
   */
  metricGatewayLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * The model's latency as the gateway measured it (the InvokeEndpoint call), in milliseconds; successful requests only.
   * @default - p99 over 5 minutes
   */
  metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Outcomes of a type counted for the variant, at the time they were reported.
   * @default - sum over 5 minutes
   */
  metricOutcomes(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Conversions of a type for the variant.
   * @default - sum over 5 minutes
   */
  metricConversions(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Sum of the outcome values (e.g. revenue) of a type for the variant.
   * @default - sum over 5 minutes
   */
  metricOutcomeValue(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Sum of the squared outcome values of a type for the variant (with the sum, the variance of a mean).
   * @default - sum over 5 minutes
   */
  metricOutcomeValueSquared(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** A variant's metrics as the gateway's handlers emit them (EMF, with the `service` dimension Powertools adds). */
class GatewayVariant implements IGatewayVariant {
  constructor(private readonly endpointName: string, public readonly variantName: string) {}

  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.invocations, undefined, props);
  }

  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.errors, undefined, props);
  }

  public metricGatewayLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.gatewayLatency, undefined, { statistic: 'p99', ...props });
  }

  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.modelLatency, undefined, { statistic: 'p99', ...props });
  }

  public metricOutcomes(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.outcomes, outcomeType, props);
  }

  public metricConversions(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.conversions, outcomeType, props);
  }

  public metricOutcomeValue(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.outcomeValue, outcomeType, props);
  }

  public metricOutcomeValueSquared(outcomeType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(GATEWAY_METRIC_NAMES.outcomeValueSquared, outcomeType, props);
  }

  private metric(metricName: string, outcomeType: string | undefined, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: GATEWAY_METRICS.namespace,
      metricName,
      dimensionsMap: {
        service: GATEWAY_METRICS.service,
        EndpointName: this.endpointName,
        VariantName: this.variantName,
        ...(outcomeType === undefined ? {} : { OutcomeType: outcomeType }),
      },
      statistic: 'Sum',
      ...props,
    });
  }
}

/** The gateway signs inference ids for, and measures, each production variant: their names must be known. */
function variantProblems(endpoint: IModelEndpoint): string[] {
  return (endpoint.variantNames ?? []).length > 0
    ? []
    : ["'endpoint' must name its production variants: pass a ModelEndpoint, or import it with fromModelEndpointAttributes({ endpointName, variantNames })"];
}

/** The outcome types are valid: each matches the outcome parser's rule, 1 to `MAX_OUTCOME_TYPES` of them, no repeats. */
function outcomeTypesProblems(outcomeTypes: readonly string[] | undefined): string[] {
  if (outcomeTypes === undefined || !known(outcomeTypes)) {
    return [];
  }
  const problems: string[] = [];
  if (outcomeTypes.length < 1 || outcomeTypes.length > MAX_OUTCOME_TYPES) {
    problems.push(`'outcomeTypes' must name 1 to ${MAX_OUTCOME_TYPES} outcome types (the gateway refuses any other type), got ${outcomeTypes.length}`);
  }
  outcomeTypes.forEach((type, i) => {
    if (known(type) && !OUTCOME_TYPE.test(type)) {
      problems.push(`'outcomeTypes[${i}]' must be ${OUTCOME_TYPE_RULE}, got ${formatValue(type)}`);
    }
  });
  const repeated = outcomeTypes.filter((type, i) => known(type) && outcomeTypes.indexOf(type) !== i);
  if (repeated.length > 0) {
    problems.push(`'outcomeTypes' must not repeat a type, got ${formatValue(repeated)} more than once`);
  }
  return problems;
}

/** What every inference gateway, created or imported, offers: its URL, invoke grants and per-variant metrics. */
export abstract class InferenceGatewayBase extends Resource implements IInferenceGateway {
  public abstract readonly apiId: string;
  public abstract readonly endpoint: IModelEndpoint;
  public abstract readonly outcomeTypes?: readonly string[];
  public abstract readonly outcomeWindow: Duration;

  /** The gateway's base URL: its `$default` stage, in the gateway's own region. */
  public get url(): string {
    return `https://${this.apiId}.execute-api.${this.env.region}.${this.stack.urlSuffix}/`;
  }

  /** Lets an IAM principal ask for predictions, the gateway picking the variant: `POST /invocations` only (IAM authentication). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoute(grantee, 'invoke');
  }

  /** Lets an IAM principal ask for predictions from a variant it names: `POST /variants/{variant}/invocations` only (IAM authentication). */
  public grantForceVariant(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoute(grantee, 'forceVariant');
  }

  /**
   * Lets an IAM principal report outcomes: `POST /outcomes` only (IAM authentication). The first report per id and type counts,
   * so give it to a trusted outcome source, not to every client that invokes.
   */
  public grantReportOutcomes(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoute(grantee, 'reportOutcomes');
  }

  /** `execute-api:Invoke` on the route of one permission, in the gateway's stage (a path parameter as `*`). */
  private grantRoute(grantee: iam.IGrantable, permission: GatewayPermission): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.stack.formatArn({
        service: 'execute-api',
        account: this.env.account,
        region: this.env.region,
        resource: this.apiId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        resourceName: `${STAGE}/POST${GATEWAY_ROUTES[permission].replace(/\{[^}]+\}/g, '*')}`,
      })],
    });
  }

  /**
   * The gateway's metrics of one of the endpoint's variants.
   * @throws ModelshipError when the endpoint has no variant of that name, naming those it has
   */
  public findVariant(variantName: string): IGatewayVariant {
    const known = this.endpoint.variantNames ?? [];
    if (!known.includes(variantName)) {
      throw new ModelshipError(`InferenceGateway ${this.node.path}`, [
        `'variantName' must be one of the gateway's variants (${known.map((v) => `'${v}'`).join(', ')}), got ${formatValue(variantName)}`,
      ]);
    }
    return new GatewayVariant(this.endpoint.endpointName, variantName);
  }
}

const MAX_PAYLOAD_KIB = 5 * 1024;
const MAX_RECORDED_BODY_KIB = 100;

/**
 * An authenticated HTTPS entry point in front of a SageMaker endpoint that records every
 * prediction and every business outcome per variant: `POST /invocations` (the gateway picks
 * every request's variant: sticky by unit id or a weighted draw; a signed inference id),
 * `POST /variants/{variant}/invocations` (a variant the caller forces, a permission of its own)
 * and `POST /outcomes` (counted once per id and type), EMF metrics per endpoint
 * and variant, experiment metrics per unit bucket for sticky requests (outcomes attributed to
 * the prediction's time), and one record per prediction and outcome shipped to an encrypted
 * S3 log store.
 */
export class InferenceGateway extends InferenceGatewayBase {
  /**
   * Imports a gateway defined in another stack or app, to grant callers access or to read its metrics.
   * @throws ModelshipError when the endpoint does not name its variants
   */
  public static fromInferenceGatewayAttributes(scope: Construct, id: string, attrs: InferenceGatewayAttributes): IInferenceGateway {
    class Import extends InferenceGatewayBase {
      public readonly apiId = attrs.apiId;
      public readonly endpoint = attrs.endpoint;
      public readonly outcomeTypes = attrs.outcomeTypes;
      public readonly outcomeWindow = attrs.outcomeWindow ?? DEFAULT_OUTCOME_WINDOW;
    }
    // The gateway lives with its endpoint: in its account and region.
    const imported = new Import(scope, id, { account: attrs.endpoint.env.account, region: attrs.endpoint.env.region });
    throwIfProblems(`InferenceGateway ${imported.node.path}`, [...variantProblems(attrs.endpoint), ...outcomeTypesProblems(attrs.outcomeTypes)]);
    return imported;
  }

  /** The HTTP API. */
  public readonly api: apigwv2.HttpApi;
  /** The HTTP API's id. */
  public readonly apiId: string;
  /** The function behind `POST /invocations` and `POST /variants/{variant}/invocations`. */
  public readonly invokeFunction: lambda.Function;
  /** The function behind `POST /outcomes`. */
  public readonly outcomeFunction: lambda.Function;
  /** The secret that signs inference ids (and keys unit hashes), rotated every `signingKeyRotation`. */
  public readonly signingKey: secretsmanager.Secret;
  /** The function Secrets Manager calls to rotate the signing key. */
  public readonly keyRotationFunction: lambda.Function;
  /** Counts each outcome once per inference id and type. */
  public readonly outcomeTable: dynamodb.Table;
  /** Encrypts the signing key and the outcome table. */
  public readonly encryptionKey: kms.IKey;
  /** Where the records land. */
  public readonly logStore: IInferenceLogStore;
  /** The API's access log. */
  public readonly accessLog: logs.LogGroup;
  /** The endpoint behind the gateway. */
  public readonly endpoint: IModelEndpoint;
  /** Outcome types the gateway accepts and publishes experiment metrics for. */
  public readonly outcomeTypes: readonly string[];
  /** How long after a prediction its outcomes are accepted. */
  public readonly outcomeWindow: Duration;

  constructor(scope: Construct, id: string, props: InferenceGatewayProps) {
    super(scope, id, { physicalName: props.gatewayName });
    this.endpoint = props.endpoint;
    this.outcomeTypes = props.outcomeTypes ?? DEFAULT_OUTCOME_TYPES;
    this.outcomeWindow = props.outcomeWindow ?? DEFAULT_OUTCOME_WINDOW;
    this.validate(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the inference gateway of ${props.endpoint.endpointName}`,
      removalPolicy,
    });
    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: `Signs the inference ids of the gateway of ${props.endpoint.endpointName}`,
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    const keyRotation = new HandlerFunction(this, 'KeyRotation', {
      hook: 'gateway-key-rotation',
      description: `Rotates the signing key of the inference gateway of ${props.endpoint.endpointName}`,
      encryptionKey: this.encryptionKey,
    });
    this.keyRotationFunction = keyRotation.function;
    this.signingKey.addRotationSchedule('Rotation', {
      rotationLambda: keyRotation.function,
      automaticallyAfter: signingKeyRotationOf(props, this.outcomeWindow),
      // Rotating at every change of the schedule could drop the previous key inside the outcome window.
      rotateImmediatelyOnUpdate: false,
    });
    acknowledgeExpectedWildcards(keyRotation, [{
      actions: ['secretsmanager:GetRandomPassword'],
      resources: ['*'],
      reason: 'Secrets Manager\'s rotation grant: GetRandomPassword has no resource (the function draws its own random bytes and never calls it)',
    }]);
    this.outcomeTable = new dynamodb.Table(this, 'Outcomes', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy,
    });
    this.logStore = props.logStore ?? new InferenceLogStore(this, 'LogStore', { removalPolicy, alarmTopic: props.alarmTopic });

    const settings: GatewaySettings = {
      endpointName: props.endpoint.endpointName,
      variants: props.endpoint.variantNames ?? [],
      modelVersions: props.endpoint.modelVersions ?? {},
      signingKeySecretId: this.signingKey.secretArn,
      maxPayloadBytes: (props.maxPayloadSize ?? Size.mebibytes(1)).toBytes(),
      weightsTtlSeconds: (props.weightsCacheTtl ?? Duration.seconds(10)).toSeconds(),
      assignmentSalt: props.assignmentSalt ?? props.endpoint.endpointName,
      bodySampleRate: props.bodySampleRate ?? 0.1,
      redactFields: props.redactFields ?? [],
      maxRecordedBodyBytes: (props.maxRecordedBodySize ?? Size.kibibytes(64)).toBytes(),
      outcomeWindowSeconds: this.outcomeWindow.toSeconds(),
      outcomeTableName: this.outcomeTable.tableName,
      outcomeTypes: [...this.outcomeTypes],
      maxOutcomeValue: props.maxOutcomeValue ?? DEFAULT_MAX_OUTCOME_VALUE,
    };
    const environment = { [GATEWAY_SETTINGS_VARIABLE]: this.stack.toJsonString(settings) };
    const invokeHandler = new HandlerFunction(this, 'Invoke', {
      hook: 'gateway-invoke',
      description: `POST /invocations of the inference gateway of ${props.endpoint.endpointName}`,
      memorySize: props.memorySize ?? 1024,
      // The HTTP API gives up after 30 seconds.
      timeout: Duration.seconds(29),
      environment,
      encryptionKey: this.encryptionKey,
    });
    const outcomeHandler = new HandlerFunction(this, 'Outcome', {
      hook: 'gateway-outcome',
      description: `POST /outcomes of the inference gateway of ${props.endpoint.endpointName}`,
      timeout: Duration.seconds(10),
      environment,
      encryptionKey: this.encryptionKey,
    });
    this.invokeFunction = invokeHandler.function;
    this.outcomeFunction = outcomeHandler.function;
    this.grantHandlers();
    this.logStore.addSource(`${id}Invocations`, invokeHandler.logGroup);
    this.logStore.addSource(`${id}Outcomes`, outcomeHandler.logGroup);

    this.accessLog = encryptedLogGroup(this, 'AccessLog', { encryptionKey: this.encryptionKey, removalPolicy });
    const auth = props.auth ?? GatewayAuth.iam();
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.gatewayName ?? Names.uniqueResourceName(this, { maxLength: 128 }),
      description: `Inference gateway of ${props.endpoint.endpointName}`,
      createDefaultStage: false,
      defaultAuthorizer: auth.authorizer(),
    });
    this.apiId = this.api.apiId;
    this.api.addStage('Stage', {
      stageName: STAGE,
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLog),
        format: AccessLogFormat.custom(JSON.stringify({
          requestId: '$context.requestId',
          requestTime: '$context.requestTime',
          ip: '$context.identity.sourceIp',
          caller: '$context.identity.userArn',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          integrationLatency: '$context.integrationLatency',
          integrationError: '$context.integrationErrorMessage',
        })),
      },
    });
    // One route per permission: API Gateway authorises per route (IAM grants, JWT scopes).
    // The invoke function serves two routes, one with a path parameter: its permission names the API, not a route
    // (CDK's route-scoped permission would name `{variant}` literally, where a request's source ARN names the variant).
    const invokeIntegration = new HttpLambdaIntegration('Invoke', this.invokeFunction, { scopePermissionToRoute: false });
    const routes: Record<GatewayPermission, apigwv2.HttpRouteIntegration> = {
      invoke: invokeIntegration,
      forceVariant: invokeIntegration,
      reportOutcomes: new HttpLambdaIntegration('Outcome', this.outcomeFunction),
    };
    for (const [permission, integration] of Object.entries(routes) as [GatewayPermission, apigwv2.HttpRouteIntegration][]) {
      this.api.addRoutes({
        path: GATEWAY_ROUTES[permission],
        methods: [apigwv2.HttpMethod.POST],
        integration,
        authorizationScopes: auth.scopesFor(permission),
      });
    }
  }

  private grantHandlers(): void {
    const invoke = this.invokeFunction;
    this.endpoint.grantInvoke(invoke);
    invoke.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:DescribeEndpoint'], resources: [this.endpoint.endpointArn] }));
    this.signingKey.grantRead(invoke);
    const outcome = this.outcomeFunction;
    this.signingKey.grantRead(outcome);
    this.outcomeTable.grant(outcome, 'dynamodb:PutItem');
    this.encryptionKey.grantEncryptDecrypt(outcome);
    acknowledgeExpectedWildcards(this, [{
      actions: KEY_ENCRYPT_DECRYPT_ACTIONS,
      resources: [this.encryptionKey.keyArn],
      reason: "CDK's encrypt/decrypt grant on the gateway's own key, which DynamoDB uses for the outcome table",
    }]);
  }

  /** Checks the values known at synthesis; tokens are left to CloudFormation and the handlers' settings schema. */
  private validate(props: InferenceGatewayProps): void {
    const problems = [...variantProblems(props.endpoint), ...outcomeTypesProblems(props.outcomeTypes)];
    const throttle = props.throttle;
    if (throttle && known(throttle.rateLimit) && !(Number.isFinite(throttle.rateLimit) && throttle.rateLimit >= 1 && throttle.rateLimit <= 10000)) {
      problems.push(`'throttle.rateLimit' must be between 1 and 10000 requests per second, got ${formatValue(throttle.rateLimit)}`);
    }
    if (throttle && known(throttle.burstLimit) && !(Number.isInteger(throttle.burstLimit) && throttle.burstLimit >= 1 && throttle.burstLimit <= 5000)) {
      problems.push(`'throttle.burstLimit' must be a whole number between 1 and 5000, got ${formatValue(throttle.burstLimit)}`);
    }
    problems.push(...sizeProblems('maxPayloadSize', props.maxPayloadSize, MAX_PAYLOAD_KIB));
    problems.push(...sizeProblems('maxRecordedBodySize', props.maxRecordedBodySize, MAX_RECORDED_BODY_KIB));
    if (props.weightsCacheTtl) {
      problems.push(...wholeSecondsProblems('weightsCacheTtl', props.weightsCacheTtl, 1, 300));
    }
    if (props.outcomeWindow) {
      problems.push(...wholeSecondsProblems('outcomeWindow', props.outcomeWindow, 60, 90 * 86400));
    }
    problems.push(...signingKeyRotationProblems(props.signingKeyRotation, this.outcomeWindow));
    const rate = props.bodySampleRate;
    if (rate !== undefined && known(rate) && !(rate >= 0 && rate <= 1)) {
      problems.push(`'bodySampleRate' must be between 0 and 1, got ${formatValue(rate)}`);
    }
    const memory = props.memorySize;
    if (memory !== undefined && known(memory) && !(Number.isInteger(memory) && memory >= 256 && memory <= 10240)) {
      problems.push(`'memorySize' must be a whole number of MiB between 256 and 10240, got ${formatValue(memory)}`);
    }
    const maxValue = props.maxOutcomeValue;
    if (maxValue !== undefined && known(maxValue) && !(maxValue >= 1 && maxValue <= MAX_OUTCOME_VALUE_LIMIT)) {
      problems.push(`'maxOutcomeValue' must be between 1 and ${MAX_OUTCOME_VALUE_LIMIT}, got ${formatValue(maxValue)}`);
    }
    const fields = props.redactFields;
    if (fields !== undefined && known(fields) && fields.some((f) => known(f) && f.trim() === '')) {
      problems.push(`'redactFields' must hold field names, got ${formatValue(fields)}`);
    }
    throwIfProblems(`InferenceGateway ${this.node.path}`, problems);
  }
}

/** The longest rotation interval Secrets Manager schedules, in days. */
const MAX_ROTATION_DAYS = 1000;

/** The shortest rotation interval for an outcome window, in whole days (for the longest window, 90 days, when it is a token). */
function minRotationDays(outcomeWindow: Duration): number {
  return minKeyRotationDays((outcomeWindow.isUnresolved() ? Duration.days(90) : outcomeWindow).toSeconds({ integral: false }));
}

/** The rotation interval: the prop, or 30 days, or the shortest one allowed when that is longer. */
function signingKeyRotationOf(props: InferenceGatewayProps, outcomeWindow: Duration): Duration {
  return props.signingKeyRotation ?? Duration.days(Math.max(30, minRotationDays(outcomeWindow)));
}

/** The rotation interval is known, whole days, at most 1000, and at least `minKeyRotationDays` of the outcome window. */
function signingKeyRotationProblems(rotation: Duration | undefined, outcomeWindow: Duration): string[] {
  if (rotation === undefined) {
    return [];
  }
  if (rotation.isUnresolved()) {
    // Secrets Manager's schedule expression is written at synthesis.
    return ["'signingKeyRotation' must be known at synthesis, got a token"];
  }
  const days = rotation.toDays({ integral: false });
  const least = outcomeWindow.isUnresolved() ? 1 : minRotationDays(outcomeWindow);
  return Number.isInteger(days) && days >= least && days <= MAX_ROTATION_DAYS
    ? []
    : [`'signingKeyRotation' must be a whole number of days between ${least} (the outcome window and the 5-minute key cache, in days rounded up, plus a day) and ${MAX_ROTATION_DAYS}, got ${formatValue(rotation.toHumanString())}`];
}

/** Whether a value is known at synthesis, not a token, so it can be checked. */
function known(value: unknown): boolean {
  return !Token.isUnresolved(value);
}

/** A problem unless `size` is between 1 KiB and `maxKib` KiB. */
function sizeProblems(property: string, size: Size | undefined, maxKib: number): string[] {
  if (size === undefined || size.isUnresolved()) {
    return [];
  }
  const bytes = size.toBytes();
  return bytes >= 1024 && bytes <= maxKib * 1024
    ? []
    : [`'${property}' must be between 1 KiB and ${maxKib} KiB, got ${bytes} bytes`];
}
