import { execFile } from 'child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { endOfLifeNotice } from '../../lib/cli/node-support';
import { AuditEntry, auditFromItem, Item, RolloutRecord, rolloutFromItem, rolloutToItem, shortVersion } from '../../lib/release/rollout-record';
import { RolloutPolicy } from '../../lib/release/rollout-policy';

const run = promisify(execFile);
const repo = join(__dirname, '..', '..');

/** A stub of the SageMaker, DynamoDB and STS APIs, keeping an endpoint and a table in memory. */
class Stub {
  public endpoint = { status: 'InService', weights: { baseline: 90, candidate: 10 } as Record<string, number> };
  /** The endpoint's config; each names the model package its candidate variant serves (a deploy makes a new one). */
  public config = 'config-3';
  public items = new Map<string, Item>();
  public calls: string[] = [];
  private server?: Server;

  public async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  public stop(): void {
    this.server?.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = (status: number, value: unknown, type = 'application/x-amz-json-1.1') => {
        res.writeHead(status, { 'content-type': type });
        res.end(JSON.stringify(value));
      };
      if (body.includes('Action=GetCallerIdentity')) {
        this.calls.push('GetCallerIdentity');
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
          + '<Arn>arn:aws:iam::111111111111:user/ana</Arn><UserId>AIDA</UserId><Account>111111111111</Account>'
          + '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
        return;
      }
      const operation = target.split('.')[1] ?? '';
      this.calls.push(operation);
      const input = body ? JSON.parse(body) : {};
      switch (target) {
        case 'SageMaker.DescribeEndpoint':
          json(200, {
            EndpointName: 'churn-ab', EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', EndpointConfigName: this.config,
            EndpointStatus: this.endpoint.status, CreationTime: 0, LastModifiedTime: 0,
            ProductionVariants: Object.entries(this.endpoint.weights).map(([VariantName, w]) => ({ VariantName, CurrentWeight: w, DesiredWeight: w, CurrentInstanceCount: 1 })),
          });
          // An update takes one look to finish.
          this.endpoint.status = 'InService';
          return;
        case 'SageMaker.DescribeEndpointConfig':
          json(200, {
            EndpointConfigName: input.EndpointConfigName, EndpointConfigArn: 'arn', CreationTime: 0,
            ProductionVariants: ['baseline', 'candidate'].map((VariantName) => ({ VariantName, ModelName: `${input.EndpointConfigName}-${VariantName}` })),
          });
          return;
        case 'SageMaker.DescribeModel':
          // config-<n>-candidate serves package version n; the baseline, version 2.
          json(200, {
            ModelName: input.ModelName, ModelArn: 'arn', CreationTime: 0, ExecutionRoleArn: 'arn',
            PrimaryContainer: { ModelPackageName: `arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/${input.ModelName.endsWith('-candidate') ? input.ModelName.split('-')[1] : 2}` },
          });
          return;
        case 'SageMaker.ListEndpoints':
          json(200, { Endpoints: [{ EndpointName: 'churn-ab', EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', EndpointStatus: this.endpoint.status, CreationTime: 0, LastModifiedTime: 0 }] });
          return;
        case 'DynamoDB_20120810.Query': {
          const items = [...this.items.entries()]
            .filter(([key]) => key.startsWith(`${input.ExpressionAttributeValues[':pk'].S}|${input.ExpressionAttributeValues[':audit'].S}`))
            .sort(([a], [b]) => (a < b ? 1 : -1))
            .slice(0, input.Limit)
            .map(([, item]) => item);
          json(200, { Items: items, Count: items.length }, 'application/x-amz-json-1.0');
          return;
        }
        case 'SageMaker.ListTags':
          json(200, { Tags: [{ Key: 'modelship:production', Value: 'true' }] });
          return;
        case 'SageMaker.UpdateEndpointWeightsAndCapacities':
          this.endpoint = {
            status: 'Updating',
            weights: Object.fromEntries(input.DesiredWeightsAndCapacities.map((d: { VariantName: string; DesiredWeight: number }) => [d.VariantName, d.DesiredWeight])),
          };
          json(200, { EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab' });
          return;
        case 'DynamoDB_20120810.GetItem': {
          const item = this.items.get(`${input.Key.pk.S}|${input.Key.sk.S}`);
          json(200, item ? { Item: item } : {}, 'application/x-amz-json-1.0');
          return;
        }
        case 'DynamoDB_20120810.TransactWriteItems': {
          // All or nothing: every put's condition holds, or none is written.
          const puts = input.TransactItems.map((t: { Put: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Record<string, { N: string }> } }) => t.Put);
          const codes = puts.map((put: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Record<string, { N: string }> }) => {
            const existing = this.items.get(`${(put.Item.pk as { S: string }).S}|${(put.Item.sk as { S: string }).S}`);
            const expected = put.ExpressionAttributeValues?.[':expected']?.N;
            const ok = put.ConditionExpression?.startsWith('attribute_not_exists') ? !existing : existing?.version && 'N' in existing.version && existing.version.N === expected;
            return !put.ConditionExpression || ok ? 'None' : 'ConditionalCheckFailed';
          });
          if (codes.some((c: string) => c !== 'None')) {
            json(400, {
              __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', message: 'Transaction cancelled',
              CancellationReasons: codes.map((Code: string) => ({ Code })),
            }, 'application/x-amz-json-1.0');
            return;
          }
          for (const put of puts) {
            this.items.set(`${put.Item.pk.S}|${put.Item.sk.S}`, put.Item);
          }
          json(200, {}, 'application/x-amz-json-1.0');
          return;
        }
        default:
          json(400, { __type: 'UnknownOperationException', message: `the stub does not serve ${target}` });
      }
    });
  }
}

describe('the built modelship CLI, run as a user would against a local stub of AWS', () => {
  const stub = new Stub();
  const outDir = mkdtempSync(join(tmpdir(), 'modelship-cli-'));
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliWith(env, ...args);
  const cliWith = (environment: NodeJS.ProcessEnv, ...args: string[]) => run(process.execPath, [join(outDir, 'dist', 'bin', 'modelship.js'), ...args], { env: environment, cwd: outDir })
    .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

  beforeAll(async () => {
    // The CLI exactly as it ships: compiled by the package build into dist/, next to the package.json.
    await run(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', join(repo, 'tsconfig.build.json'), '--outDir', join(outDir, 'dist')], { cwd: repo });
    copyFileSync(join(repo, 'package.json'), join(outDir, 'package.json'));
    const url = await stub.start();
    // No AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: the CLI silences the SDK's notice itself.
    env = {
      PATH: process.env.PATH, NODE_PATH: join(repo, 'node_modules'), AWS_ENDPOINT_URL: url, AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test',
    };
    const policy = RolloutPolicy.progressive({
      baseline: 'baseline', candidate: 'candidate', steps: [10, 50, 100], manualGateBeforePromotion: true,
      metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
    });
    const record: RolloutRecord = {
      endpointName: 'churn-ab', rolloutId: 1, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3', policyHash: policy.hash, policy: policy.spec, version: 3, updatedAtMs: 0, updatedBy: 'release-controller',
      state: { phase: 'running', step: 0, weights: { baseline: 90, candidate: 10 }, startedAtMs: 0, stepStartedAtMs: 0 },
    };
    stub.items.set('churn-ab|ROLLOUT', rolloutToItem(record));
  }, 120_000);

  afterAll(() => {
    stub.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('answers --help with the commands and examples', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['status', 'shift', 'promote', 'abort|rollback', 'pause', 'resume', 'history', 'simulate', 'train']) {
      expect(stdout).toContain(command);
    }
    expect(stdout).toContain('Exit codes:');
  });

  test('prints its version from the package.json it ships with', async () => {
    const { code, stdout } = await cli('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version);
  });

  test('refuses bad arguments with exit 2 before any AWS call, with no region or credentials configured', async () => {
    // Nothing to find AWS with: no region, no keys, a profile that exists nowhere, no config files.
    const offline = {
      PATH: process.env.PATH, NODE_PATH: env.NODE_PATH, AWS_PROFILE: 'modelship-nowhere', AWS_CONFIG_FILE: join(outDir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(outDir, 'no-credentials'), AWS_EC2_METADATA_DISABLED: 'true',
    };
    const calls = stub.calls.length;
    const text = await cliWith(offline, 'shift', 'e', '--to', 'b', '--weight', '150');
    expect(text.code).toBe(2);
    expect(text.stderr).toContain("modelship: --weight must be an integer from 0 to 100, got '150'");
    expect(text.stderr).not.toMatch(/region|credential/i);
    const json = await cliWith(offline, 'promote', 'e', '--timeout', 'abc', '--json');
    expect(json.code).toBe(2);
    // Every line on standard error is JSON under --json; the error is the last.
    const lines = json.stderr.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ error: { exitCode: 2, message: "--timeout must be an integer from 1 to 86400, got 'abc'" } });
    expect(stub.calls.length).toBe(calls);
  });

  test('refuses a production shift without a reason, changing nothing', async () => {
    const { code, stderr } = await cli('shift', 'churn-ab', '--to', 'candidate', '--weight', '25', '--yes');
    expect(code).toBe(2);
    expect(stderr).toContain("'--reason' is required: 'churn-ab' is a production endpoint");
    // SDK clients were built and used (the production check), yet the SDK printed no Node.js
    // notice (it would on Node.js before 22); the CLI printed its own one line, if this Node.js is past its end of life.
    expect(stub.calls).toContain('ListTags');
    expect(stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
    const notice = endOfLifeNotice(process.version, Date.now());
    const lines = stderr.trimEnd().split('\n');
    expect(lines.filter((line) => line.includes('end of life'))).toEqual(notice === undefined ? [] : [notice]);
    expect(lines).toHaveLength(notice === undefined ? 1 : 2);
    expect(stub.calls).not.toContain('UpdateEndpointWeightsAndCapacities');
    expect(rolloutFromItem(stub.items.get('churn-ab|ROLLOUT')!).version).toBe(3);
  });

  test('shifts traffic, pauses the automation, records who and why, and waits for InService', async () => {
    const { code, stdout } = await cli('shift', 'churn-ab', '--to', 'candidate', '--weight', '25', '--yes', '--reason', 'canary looks healthy', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ endpoint: 'churn-ab', action: 'manual-shift', production: true, before: { baseline: 90, candidate: 10 },
      after: { baseline: 75, candidate: 25 }, actor: 'arn:aws:iam::111111111111:user/ana', version: 4, status: 'InService', weights: { baseline: 75, candidate: 25 } });
    expect(stub.endpoint.weights).toEqual({ baseline: 75, candidate: 25 });
    expect(rolloutFromItem(stub.items.get('churn-ab|ROLLOUT')!)).toMatchObject({ version: 4, updatedBy: 'arn:aws:iam::111111111111:user/ana', state: { phase: 'paused', weights: { baseline: 75, candidate: 25 } } });
    const audit = [...stub.items.entries()].filter(([k]) => k.includes('|AUDIT#')).map(([, item]) => auditFromItem(item));
    expect(audit).toEqual([expect.objectContaining({ action: 'manual-shift', actor: 'arn:aws:iam::111111111111:user/ana', reason: 'canary looks healthy', version: 4, phase: 'paused' })]);
    // The write (the rollout, its audit entry and its outbox item, in one transaction) came before the weights moved.
    expect(stub.calls.indexOf('TransactWriteItems')).toBeLessThan(stub.calls.indexOf('UpdateEndpointWeightsAndCapacities'));
    expect([...stub.items.keys()].filter((k) => k.includes('|OUTBOX#'))).toHaveLength(1);
  }, 30_000); // the CLI looks again after 5 s, as it does against SageMaker

  test('walks a second model version: promoted, deployed, rollout #2 started, advanced, undone; the history shows both', async () => {
    const ok = async (...args: string[]) => {
      const result = await cli(...args, '--yes');
      // Nothing on stderr but the Node.js end-of-life notice, when this Node.js is past it.
      const errors = result.stderr.split('\n').filter((line) => line && !line.includes('end of life'));
      expect({ args, code: result.code, errors }).toEqual({ args, code: 0, errors: [] });
      return result;
    };
    const rollout = () => rolloutFromItem(stub.items.get('churn-ab|ROLLOUT')!);
    // Rollout #1 of version 3 (paused by the shift before) goes to 100% at once.
    await ok('promote', 'churn-ab', '--full', '--reason', 'v3 converts +3%');
    expect(rollout()).toMatchObject({ rolloutId: 1, state: { phase: 'promoted', weights: { baseline: 0, candidate: 100 } } });
    // The pipeline registers version 4 and `cdk deploy` puts it on the candidate variant.
    stub.config = 'config-4';
    const listed = JSON.parse((await cli('list', '--json')).stdout) as { endpoint: string; rollout: RolloutRecord }[];
    expect(listed.map((l) => [l.endpoint, l.rollout.rolloutId, l.rollout.state.phase])).toEqual([['churn-ab', 1, 'promoted']]);
    await ok('rollout', 'start', 'churn-ab', '--reason', 'v4 is deployed');
    expect(rollout()).toMatchObject({
      rolloutId: 2, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4', state: { phase: 'running', step: 0, weights: { baseline: 90, candidate: 10 } },
    });
    expect(stub.endpoint.weights).toEqual({ baseline: 90, candidate: 10 });
    // Starting it again is refused: it is running.
    const again = await cli('rollout', 'start', 'churn-ab', '--yes', '--reason', 'again');
    expect(again.code).toBe(3);
    await ok('promote', 'churn-ab', '--reason', 'step 1 is healthy');
    expect(rollout().state).toMatchObject({ phase: 'running', step: 1, weights: { baseline: 50, candidate: 50 } });
    await ok('undo', 'churn-ab', '--reason', 'v4 recommends out-of-stock items');
    expect(rollout().state).toMatchObject({ phase: 'aborted', weights: { baseline: 100, candidate: 0 } });
    expect(stub.endpoint.weights).toEqual({ baseline: 100, candidate: 0 });

    const history = JSON.parse((await cli('history', 'churn-ab', '--json')).stdout) as AuditEntry[];
    // Newest first; the entries of this walk (the shift before it is rollout #1's too).
    expect(history.slice(0, 4).map((e) => [e.rolloutId, e.action, shortVersion(e.candidateVersion), `${e.toWeights.baseline}/${e.toWeights.candidate}`])).toEqual([
      [2, 'manual-undo', 'churn/4', '100/0'],
      [2, 'manual-advance', 'churn/4', '50/50'],
      [2, 'started', 'churn/4', '90/10'],
      [1, 'manual-promote', 'churn/3', '0/100'],
    ]);
    expect(history.find((e) => e.action === 'started')).toMatchObject({ fromWeights: { baseline: 0, candidate: 100 }, reason: expect.stringContaining('rollout #1 (churn/3) ended promoted') });
    expect(history[0].reason).toBe('v4 recommends out-of-stock items');
  }, 60_000);
});
