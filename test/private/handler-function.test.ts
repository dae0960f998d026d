import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUNDLE_DIR, bundlesAreStale, hooks, REQUEST_PATH_HOOKS, REQUEST_PATH_LIMIT_KIB, SOURCE_SCHEME } from '../../lambda/bundle';
import { HandlerFunction } from '../../lib/private/handler-function';
import { nagFindings, problemsOf, testApp } from '../helpers';
import { gateEvent } from '../lambda/gate-event';

// The bundles are the ones `npm run bundle` built (jest's global setup runs it): the files the
// package ships and every synth deploys.
const bundleOf = (hook: string) => join(BUNDLE_DIR, hook, 'index.js');
const ALL_HOOKS = ['endpoint-check', 'gateway-invoke', 'gateway-key-rotation', 'gateway-outcome', 'log-shipper', 'release-controller', 'training-gate', 'training-watch'];

describe('the hooks\' bundles', () => {
  test('exist for every hook folder, each with its source map', () => {
    expect(hooks()).toEqual(ALL_HOOKS);
    for (const hook of ALL_HOOKS) {
      expect(readFileSync(bundleOf(hook), 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
      expect(statSync(`${bundleOf(hook)}.map`).isFile()).toBe(true);
    }
  });

  test('count as stale once any bundle is older than the sources, and as fresh after the global setup', () => {
    expect(bundlesAreStale()).toBe(false);
    const bundle = bundleOf('log-shipper');
    const { atime, mtime } = statSync(bundle);
    utimesSync(bundle, atime, new Date(0));
    try {
      expect(bundlesAreStale()).toBe(true);
    } finally {
      // (Were this lost, the next run would only bundle again.)
      utimesSync(bundle, atime, mtime);
    }
    expect(bundlesAreStale()).toBe(false);
  });

  test('bundle the pinned AWS SDK instead of using the runtime\'s', () => {
    const source = readFileSync(bundleOf('training-watch'), 'utf8');
    expect(source).not.toMatch(/require\(["']@aws-sdk\/client-/);
    expect(source).toContain('FilterLogEvents');
  });

  test('take credentials from the environment only, leaving the default chain out', () => {
    for (const hook of ALL_HOOKS) {
      const source = readFileSync(bundleOf(hook), 'utf8');
      expect(source).not.toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE|sso_start_url|credential_process/);
    }
    expect(readFileSync(bundleOf('training-watch'), 'utf8')).toContain('AWS_SESSION_TOKEN');
  });

  test(`stay under ${REQUEST_PATH_LIMIT_KIB} KiB on the request path`, () => {
    expect(REQUEST_PATH_HOOKS).toEqual(['gateway-invoke', 'gateway-outcome']);
    for (const hook of REQUEST_PATH_HOOKS) {
      expect(statSync(bundleOf(hook)).size).toBeLessThanOrEqual(REQUEST_PATH_LIMIT_KIB * 1024);
    }
  });

  test('carry source maps that embed every source and name none as a file beside them', () => {
    const map = JSON.parse(readFileSync(`${bundleOf('gateway-invoke')}.map`, 'utf8')) as { sources: string[]; sourcesContent: Array<string | null> };
    expect(map.sources.length).toBeGreaterThan(10);
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    expect(map.sourcesContent.every((content) => typeof content === 'string')).toBe(true);
    expect(map.sources.every((source) => source.startsWith(SOURCE_SCHEME))).toBe(true);
    expect(map.sources).toContain(`${SOURCE_SCHEME}lambda/gateway-invoke/index.ts`);
  });

  test('run as Lambda runs them: a CommonJS module whose handler answers and logs JSON', async () => {
    const written = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // As HandlerFunction configures it (test/setup-env.ts silences the logs of other tests).
    const silenced = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    try {
      // The bundle is CommonJS at a path known only at run time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(bundleOf('training-gate'));
      const out = await bundled.handler(gateEvent(0.9));
      expect(out.passed).toBe(true);
      expect(written.mock.calls.map(([line]) => JSON.parse(String(line)))).toEqual([
        expect.objectContaining({ level: 'INFO', message: 'quality gate evaluated', passed: true }),
      ]);
    } finally {
      written.mockRestore();
      process.env.POWERTOOLS_LOG_LEVEL = silenced;
    }
  });
});

describe('HandlerFunction', () => {
  const app = testApp();
  const stack = new Stack(app, 'Hooks');
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const hook = new HandlerFunction(stack, 'Gate', { hook: 'training-gate', description: 'gate', encryptionKey });
  new HandlerFunction(stack, 'Single', { hook: 'training-watch', description: 'single', reservedConcurrentExecutions: 1, encryptionKey });
  const imported = new Stack(app, 'Imported');
  new HandlerFunction(imported, 'Gate', {
    hook: 'training-gate', description: 'gate', encryptionKey: kms.Key.fromKeyArn(imported, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
  });
  const assembly = app.synth();
  const template = Template.fromStack(stack);

  test('deploys its hook\'s ready bundle, bundling nothing at synth', () => {
    const code = (hook.function.node.defaultChild as lambda.CfnFunction).code as { s3Key: string };
    const hash = stack.resolve(code.s3Key).replace(/\.zip$/, '');
    const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Hooks.assets.json'), 'utf8'));
    expect(resolve(assembly.directory, manifest.files[hash].source.path)).toBe(join(BUNDLE_DIR, 'training-gate'));
  });

  test('deploys the bundle without its source map', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'modelship-asset-'));
    try {
      const staging = new App({ outdir });
      const staged = new Stack(staging, 'Staged');
      new HandlerFunction(staged, 'Gate', { hook: 'training-gate', description: 'gate', encryptionKey: new kms.Key(staged, 'Key') });
      const directory = staging.synth().directory;
      const assets = readdirSync(directory).filter((entry) => entry.startsWith('asset.'));
      expect(assets).toHaveLength(1);
      expect(readdirSync(join(directory, assets[0]))).toEqual(['index.js']);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('runs on the latest Node.js on ARM with JSON logs to its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'gate',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      ReservedConcurrentExecutions: Match.absent(),
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: stack.getLogicalId(hook.logGroup.node.defaultChild as never) } },
      Environment: { Variables: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'INFO' } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('encrypts each log group with the given key, which lets CloudWatch Logs of its region use it for log groups only', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(2);
    for (const group of Object.values(groups)) {
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(encryptionKey.node.defaultChild as never), 'Arn'] });
    }
    const statements = Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement as { Sid?: string }[];
    expect(statements.filter((st) => st.Sid === 'CloudWatchLogsEncryption')).toEqual([{
      Sid: 'CloudWatchLogsEncryption',
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']] },
        },
      },
    }]);
  });

  test('warns that an imported key\'s policy must let CloudWatch Logs use it', () => {
    Annotations.fromStack(imported).hasWarning('/Imported/Gate', Match.stringLikeRegexp('is imported, so its policy is not changed here: it must let logs.<region>.amazonaws.com use it'));
    Template.fromStack(imported).hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
  });

  test('reserves concurrency when asked', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'single', ReservedConcurrentExecutions: 1 });
  });

  test('has a role without managed policies that writes only to its log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(hook.logGroup.node.defaultChild as never), 'Arn'] },
      }] },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('fails synth naming the hook whose bundle is missing, and how to build it', () => {
    const missing = new Stack(testApp(), 'Missing');
    const problems = problemsOf(() => new HandlerFunction(missing, 'Nope', { hook: 'no-such-hook', description: 'none', encryptionKey: new kms.Key(missing, 'Key') }));
    expect(problems).toEqual([expect.stringContaining("the bundle of hook 'no-such-hook' is missing")]);
    expect(problems[0]).toContain('run `npm run bundle`');
  });
});
