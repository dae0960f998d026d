import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ModelshipError } from '../runtime/errors';
import { encryptedLogGroup } from './log-encryption';

/** Properties of a modelship Lambda hook. */
export interface HandlerFunctionProps {
  /** The hook's folder under `lambda/`. */
  readonly hook: string;
  /** What the function does, for the console. */
  readonly description: string;
  /** The exported function to call. @default 'handler' */
  readonly handler?: string;
  /** How long an invocation may run. @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Memory in MiB (CPU grows with it). @default 256 */
  readonly memorySize?: number;
  /** Environment variables besides the SDK and Powertools settings every hook gets. @default - none */
  readonly environment?: Record<string, string>;
  /** How many instances may run at once. @default - no reservation: the account's unreserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** The key that encrypts the function's log group (its policy is extended to let CloudWatch Logs use it). */
  readonly encryptionKey: kms.IKey;
}

/**
 * The folder that holds the package's `package.json`, above this file: the repository root
 * (this file is `lib/private/`) or the installed package's (this file is `dist/lib/private/`).
 */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) {
    dir = dirname(dir);
  }
  return dir;
}
const PACKAGE_ROOT = packageRoot();

/**
 * The hook's ready bundle, `dist/lambda/<hook>/` under the package root, built by
 * `npm run bundle` (`lambda/bundle.ts`) and shipped in the package.
 */
function bundleOf(hook: string): string {
  const dir = join(PACKAGE_ROOT, 'dist', 'lambda', hook);
  if (!existsSync(join(dir, 'index.js'))) {
    throw new ModelshipError('HandlerFunction', [
      `the bundle of hook '${hook}' is missing (expected ${join(dir, 'index.js')}): run \`npm run bundle\` in the modelship package`,
    ]);
  }
  return dir;
}

/**
 * A modelship Lambda hook: its ready bundle (minified, the pinned AWS SDK inside; its source map
 * is not deployed; credentials from the environment as Lambda provides them; see `lambda/bundle.ts`) on
 * the latest Node.js runtime, with JSON logs to its own log group (encrypted with the given key, kept a year) and a role that may write only
 * to that log group (no managed policies). Synthesis bundles nothing.
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    // The source map stays in the package, for reading a stack trace offline; Lambda runs without
    // it (no --enable-source-maps), so deploying it would only add 2 MB and a new asset hash
    // whenever a comment of an embedded source changes.
    const code = lambda.Code.fromAsset(bundleOf(props.hook), { exclude: ['*.map'] });
    this.logGroup = encryptedLogGroup(this, 'Logs', { encryptionKey: props.encryptionKey });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.function = new lambda.Function(this, 'Function', {
      code,
      handler: `index.${props.handler ?? 'handler'}`,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    });
  }
}
