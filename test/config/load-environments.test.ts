import { parseEnvironments, selectEnvironments } from '../../lib/config/load-environments';
import { cdkJsonContext, problemsOf } from '../helpers';

/** The environments with the one required key (`training.imageTag`) set, so that each test sees only the problems it is about. */
function withImageTag(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return raw;
  }
  return Object.fromEntries(Object.entries(raw).map(([name, env]: [string, unknown]) =>
    [name, typeof env === 'object' && env !== null ? { ...env, training: { imageTag: 'v1', ...(env as { training?: object }).training } } : env]));
}

const parse = (raw: unknown) => parseEnvironments(withImageTag(raw));
const problemsOfConfig = (raw: unknown) => problemsOf(() => parse(raw));

describe('parseEnvironments', () => {
  test('applies defaults to an empty environment', () => {
    expect(parse({ dev: {} })).toEqual([{
      name: 'dev',
      production: false,
      registry: { removal: 'retain', noncurrentVersionExpirationDays: 90, readerAccounts: [] },
      training: {
        model: 'churn',
        instanceType: 'ml.g5.2xlarge',
        instanceCount: 1,
        maxRuntimeHours: 16,
        spot: true,
        approval: 'PendingManualApproval',
        imageTag: 'v1',
        maxImageCount: 100,
        qualityGate: [],
      },
      serving: {
        instanceType: 'ml.m5.large',
        instanceCount: 1,
        strategy: 'allAtOnce',
        waitMinutes: 10,
        abTest: false,
        shadow: false,
      },
      gateway: { enabled: false, bodySampleRate: 0.1, redactFields: [], outcomeWindowDays: 7, rateLimit: 100, burstLimit: 200, analytics: false },
      release: {
        enabled: false, policy: 'progressive', metric: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.05, steps: [5, 10, 25, 50, 100],
        candidateWeight: 50, floorPercent: 10, evaluationIntervalMinutes: 15, minStepMinutes: 60, maxDurationHours: 336,
      },
      network: { vpc: false, cidr: '10.0.0.0/16', maxAzs: 2, networkIsolation: false },
    }]);
  });

  test('accepts the environments declared in cdk.json', () => {
    const environments = parseEnvironments(cdkJsonContext()['modelship:environments']);
    expect(environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(environments.find((e) => e.name === 'prod')?.production).toBe(true);
  });

  test('keeps account and region when given', () => {
    const [dev] = parse({ dev: { account: '123456789012', region: 'eu-west-1' } });
    expect(dev).toMatchObject({ account: '123456789012', region: 'eu-west-1' });
  });

  test('names the environment, key, allowed values and value found for a bad enum', () => {
    expect(problemsOfConfig({ dev: { registry: { removal: 'delete' } } })).toEqual([
      "environment 'dev': 'registry.removal' must be one of 'retain', 'destroy', got 'delete'",
    ]);
  });

  test('names the range and value for a number out of range', () => {
    expect(problemsOfConfig({ staging: { registry: { noncurrentVersionExpirationDays: 0 } } })).toEqual([
      "environment 'staging': 'registry.noncurrentVersionExpirationDays' must be an integer between 1 and 3650, got 0",
    ]);
    expect(problemsOfConfig({ staging: { registry: { noncurrentVersionExpirationDays: 1.5 } } })).toEqual([
      "environment 'staging': 'registry.noncurrentVersionExpirationDays' must be an integer between 1 and 3650, got 1.5",
    ]);
  });

  test('rejects a value of the wrong type', () => {
    expect(problemsOfConfig({ dev: { production: 'yes' } })).toEqual([
      "environment 'dev': 'production' must be true or false, got 'yes'",
    ]);
    expect(problemsOfConfig({ dev: 5 })).toEqual(["environment 'dev' must be an object, got 5"]);
  });

  test('rejects malformed account ids and regions', () => {
    expect(problemsOfConfig({ prod: { account: '1234', region: 'mars-1' } })).toEqual([
      "environment 'prod': 'account' must be a 12-digit AWS account id, got '1234'",
      "environment 'prod': 'region' must be an AWS region name such as 'eu-west-1', got 'mars-1'",
    ]);
    expect(problemsOfConfig({ prod: { registry: { readerAccounts: ['123456789012', 'abc'] } } })).toEqual([
      "environment 'prod': 'registry.readerAccounts[1]' must be a 12-digit AWS account id, got 'abc'",
    ]);
  });

  test('rejects unknown keys and lists the allowed ones', () => {
    expect(problemsOfConfig({ dev: { colour: 'blue' } })).toEqual([
      "environment 'dev' has unknown key 'colour' (allowed: 'description', 'account', 'region', 'production', 'registry', 'training', 'serving', 'gateway', 'release', 'network')",
    ]);
    expect(problemsOfConfig({ dev: { registry: { retention: 3 } } })).toEqual([
      "environment 'dev': 'registry' has unknown key 'retention' (allowed: 'removal', 'noncurrentVersionExpirationDays', 'readerAccounts')",
    ]);
  });

  test('rejects destroying the registry in a production environment', () => {
    expect(problemsOfConfig({ prod: { production: true, registry: { removal: 'destroy' } } })).toEqual([
      "environment 'prod': 'registry.removal' must be 'retain' in an environment marked production, got 'destroy'",
    ]);
  });

  test('rejects training settings out of range, naming each', () => {
    expect(problemsOfConfig({ dev: { training: {
      instanceType: 'g5.xlarge', instanceCount: 0, maxRuntimeHours: 700, schedule: 'weekly', imageTag: 'a b', model: 'Churn',
    } } })).toEqual([
      "environment 'dev': 'training.model' must be 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, got 'Churn'",
      "environment 'dev': 'training.instanceType' must be an instance type such as ml.g5.2xlarge, got 'g5.xlarge'",
      "environment 'dev': 'training.instanceCount' must be an integer between 1 and 100, got 0",
      "environment 'dev': 'training.maxRuntimeHours' must be an integer between 1 and 672, got 700",
      "environment 'dev': 'training.schedule' must be an EventBridge schedule expression such as 'rate(7 days)' or 'cron(0 2 ? * SUN *)', got 'weekly'",
      "environment 'dev': 'training.imageTag' must be an immutable tag (1-128 letters, digits, '.', '_' and '-', not 'latest') or a digest ('sha256:' and 64 hex digits), got 'a b'",
    ]);
  });

  test('requires a training image tag or digest that pins one image, and no other key', () => {
    const rule = "must be an immutable tag (1-128 letters, digits, '.', '_' and '-', not 'latest') or a digest ('sha256:' and 64 hex digits)";
    expect(problemsOf(() => parseEnvironments({ dev: {}, prod: { training: { imageTag: 'latest' } } }))).toEqual([
      `environment 'dev': 'training.imageTag' ${rule}, got nothing`,
      `environment 'prod': 'training.imageTag' ${rule}, got 'latest'`,
    ]);
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(parseEnvironments({ dev: { training: { imageTag: digest } } })[0].training.imageTag).toBe(digest);
  });

  test('rejects network settings out of range, naming each', () => {
    expect(problemsOfConfig({ prod: { network: { vpc: 'yes', cidr: '10.0.0.0/8', maxAzs: 4, networkIsolation: 1 } } })).toEqual([
      "environment 'prod': 'network.vpc' must be true or false, got 'yes'",
      "environment 'prod': 'network.cidr' must be an IPv4 CIDR block from /16 to /24 such as '10.0.0.0/16', got '10.0.0.0/8'",
      "environment 'prod': 'network.maxAzs' must be an integer between 2 and 3, got 4",
      "environment 'prod': 'network.networkIsolation' must be true or false, got 1",
    ]);
    expect(problemsOfConfig({ prod: { network: { cidr: '300.0.0.0/16', subnets: [] } } })).toEqual([
      "environment 'prod': 'network.cidr' must be an IPv4 CIDR block from /16 to /24 such as '10.0.0.0/16', got '300.0.0.0/16'",
      "environment 'prod': 'network' has unknown key 'subnets' (allowed: 'vpc', 'cidr', 'maxAzs', 'networkIsolation')",
    ]);
    expect(parse({ prod: { network: { vpc: true, cidr: '172.16.0.0/20', maxAzs: 3, networkIsolation: true } } })[0].network)
      .toEqual({ vpc: true, cidr: '172.16.0.0/20', maxAzs: 3, networkIsolation: true });
  });

  test('rejects a spot wait shorter than the runtime', () => {
    expect(problemsOfConfig({ dev: { training: { maxRuntimeHours: 10, maxWaitHours: 5 } } })).toEqual([
      "environment 'dev': 'training.maxWaitHours' must be at least 'maxRuntimeHours' (10), got 5",
    ]);
  });

  test('rejects automatic approval of models in a production environment', () => {
    expect(problemsOfConfig({ prod: { production: true, training: { approval: 'Approved' } } })).toEqual([
      "environment 'prod': 'training.approval' must be 'PendingManualApproval' in an environment marked production: a person approves production models, got 'Approved'",
    ]);
  });

  test('rejects serving settings out of range, naming each', () => {
    expect(problemsOfConfig({ dev: { serving: { strategy: 'bluegreen', waitMinutes: 90, instanceCount: 4, maxInstanceCount: 2 } } })).toEqual([
      "environment 'dev': 'serving.strategy' must be one of 'allAtOnce', 'canary', 'linear', got 'bluegreen'",
      "environment 'dev': 'serving.waitMinutes' must be an integer between 0 and 60, got 90",
    ]);
    expect(problemsOfConfig({ dev: { serving: { instanceCount: 4, maxInstanceCount: 2 } } })).toEqual([
      "environment 'dev': 'serving.maxInstanceCount' must be at least 'instanceCount' (4), got 2",
    ]);
  });

  test('rejects gateway settings out of range, naming each', () => {
    expect(problemsOfConfig({ dev: { gateway: { enabled: 'yes', bodySampleRate: 2, redactFields: [''], outcomeWindowDays: 365, rateLimit: 0, burstLimit: 9000 } } })).toEqual([
      "environment 'dev': 'gateway.enabled' must be true or false, got 'yes'",
      "environment 'dev': 'gateway.bodySampleRate' must be a number between 0 and 1, got 2",
      "environment 'dev': 'gateway.redactFields[0]' must be a field name, got ''",
      "environment 'dev': 'gateway.outcomeWindowDays' must be an integer between 1 and 90, got 365",
      "environment 'dev': 'gateway.rateLimit' must be an integer between 1 and 10000, got 0",
      "environment 'dev': 'gateway.burstLimit' must be an integer between 1 and 5000, got 9000",
    ]);
  });

  test('rejects release settings out of range, and a release without an A/B endpoint and a gateway', () => {
    expect(problemsOfConfig({ dev: { release: { policy: 'canary', minimumDetectableEffect: 0, steps: [0, 200], evaluationIntervalMinutes: 0 } } })).toEqual([
      "environment 'dev': 'release.policy' must be one of 'progressive', 'experiment', 'bandit', got 'canary'",
      "environment 'dev': 'release.minimumDetectableEffect' must be a number greater than 0 and at most 1, got 0",
      "environment 'dev': 'release.steps[0]' must be an integer between 1 and 100, got 0",
      "environment 'dev': 'release.steps[1]' must be an integer between 1 and 100, got 200",
      "environment 'dev': 'release.evaluationIntervalMinutes' must be an integer between 1 and 1440, got 0",
    ]);
    expect(problemsOfConfig({ dev: { release: { enabled: true } } })).toEqual([
      "environment 'dev': 'release.enabled' needs 'serving.abTest' and 'gateway.enabled': the controller moves the A/B endpoint's weights on the gateway's metrics, got true",
    ]);
  });

  test('needs a baseline version for A/B and shadow endpoints', () => {
    expect(problemsOfConfig({ prod: { serving: { abTest: true } } })).toEqual([
      "environment 'prod': 'serving.baselineVersion' must be set when 'abTest' or 'shadow' is true: it is the version the latest approved one is compared with, got nothing",
    ]);
  });

  test('rejects invalid environment names', () => {
    expect(problemsOfConfig({ Dev_1: {} })).toEqual([
      "environment 'Dev_1' has an invalid name: use lowercase letters, digits and hyphens, starting with a letter, at most 32 characters",
    ]);
  });

  test('rejects a missing, empty or non-object config', () => {
    expect(problemsOfConfig(undefined)).toEqual([
      "context 'modelship:environments' is missing: declare the environments in cdk.json",
    ]);
    expect(problemsOfConfig({})).toEqual(["context 'modelship:environments' must declare at least one environment, got {}"]);
    expect(problemsOfConfig(['dev'])).toEqual([
      'context \'modelship:environments\' must be an object with one entry per environment, got ["dev"]',
    ]);
  });

  test('reports every problem at once, in one error', () => {
    expect(() => parse({ dev: { production: 1, registry: { removal: 'x' } } }))
      .toThrow(/Invalid environment config:\n {2}- environment 'dev': 'production'.*\n {2}- environment 'dev': 'registry.removal'/);
  });
});

describe('selectEnvironments', () => {
  const environments = parse({ dev: {}, staging: {}, prod: {} });

  test('selects every environment without a selector', () => {
    expect(selectEnvironments(environments).map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
  });

  test('selects the named environments, in declaration order', () => {
    expect(selectEnvironments(environments, 'prod, dev').map((e) => e.name)).toEqual(['dev', 'prod']);
  });

  test('rejects an unknown environment and lists the known ones', () => {
    expect(() => selectEnvironments(environments, 'qa'))
      .toThrow("Invalid context 'env': unknown environment 'qa'; known environments: dev, staging, prod");
    expect(() => selectEnvironments(environments, 'dev,qa,uat')).toThrow("unknown environment 'qa,uat'");
    expect(() => selectEnvironments(environments, ' ')).toThrow("unknown environment ' '");
  });
});
