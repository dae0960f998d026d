import { existsSync } from 'fs';
import { join } from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of a modelship Lambda hook. */
export interface HandlerFunctionProps {
  /** The hook's folder under `lambda/`. */
  readonly hook: string;
  /** What the function does, for the console. */
  readonly description: string;
  /** The exported function to call. @default 'handler' */
  readonly handler?: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default - none */
  readonly environment?: Record<string, string>;
}

/**
 * The handler's entry: the TypeScript source in this repository, or the compiled JavaScript
 * next to `dist/lib` when modelship is used as a package.
 */
function entryOf(hook: string): string {
  return sourceOf(join('lambda', hook, 'index'));
}

/** A module under the package root, as TypeScript source in this repository or compiled JavaScript in `dist`. */
function sourceOf(path: string): string {
  const base = join(__dirname, '..', '..', path);
  return existsSync(`${base}.ts`) ? `${base}.ts` : `${base}.js`;
}

/**
 * A modelship Lambda hook: bundled with the local esbuild (never Docker), minified with
 * source maps and the pinned AWS SDK inside (credentials from the environment, as Lambda provides them), on the latest Node.js runtime, with JSON logs to its own log group and a role
 * that may write only to that log group (no managed policies).
 */
export class HandlerFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.function = new NodejsFunction(this, 'Function', {
      entry: entryOf(props.hook),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        forceDockerBundling: false,
        // The SDK's ES modules, so esbuild can drop the commands a hook never sends.
        mainFields: ['module', 'main'],
        // Bundle the SDK at the version the tests ran against instead of the runtime's copy,
        // with credentials from the environment only (see lambda/shared/environment-credentials.ts).
        externalModules: [],
        esbuildArgs: { '--alias': [`@aws-sdk/credential-provider-node=${sourceOf(join('lambda', 'shared', 'environment-credentials'))}`] },
      },
    });
  }
}
