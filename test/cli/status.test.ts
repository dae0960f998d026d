import { DescribeAlarmsCommand, GetMetricDataCommand, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand } from '@aws-sdk/client-sagemaker';
import 'aws-sdk-client-mock-jest';
import { HEALTH_EXIT, rolloutHealth, status, StatusReport } from '../../lib/cli/commands/status';
import { EXIT } from '../../lib/cli/errors';
import { CliError } from '../../lib/cli/errors';
import { decide } from '../../lib/release/decide';
import { RolloutPolicy } from '../../lib/release/rollout-policy';
import { UNIT_BUCKETS } from '../../lib/release/metric-queries';
import { AuditEntry, auditToItem, RolloutRecord, rolloutToItem } from '../../lib/release/rollout-record';
import type { Observation } from '../../lib/release/rollout-types';
import { fakeIo, mockedAws, MockedAws, NOW, serviceError } from './fakes';

const HOUR = 3_600_000;
const STEP_START = NOW - 4 * HOUR;
const HOURLY_START = NOW - 23 * HOUR;
const LAG_SECONDS = 180;
const ATTRIBUTION_SECONDS = 3600;
/** Now less the lag and the attribution window: 10:57. */
const COHORT_END = NOW - (LAG_SECONDS + ATTRIBUTION_SECONDS) * 1000;

const policy = RolloutPolicy.progressive({
  baseline: 'baseline', candidate: 'candidate', steps: [10, 50, 100],
  metric: { kind: 'rate', outcomeType: 'checkout', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 500, alarmNames: ['churn-ab-candidate-5xx'] },
});

const record: RolloutRecord = {
  endpointName: 'churn-ab', rolloutId: 1, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3', policyHash: policy.hash, policy: policy.spec, version: 7, updatedAtMs: NOW - 15 * 60_000, updatedBy: 'release-controller',
  source: { gateway: { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'checkout' } },
  metricLagSeconds: LAG_SECONDS,
  attributionSeconds: ATTRIBUTION_SECONDS,
  state: { phase: 'running', step: 1, weights: { baseline: 50, candidate: 50 }, startedAtMs: NOW - 48 * HOUR, stepStartedAtMs: STEP_START },
};


function audit(atMs: number, version: number, action: AuditEntry['action'], from: number, to: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    endpointName: 'churn-ab', atMs, version, actor: 'release-controller', action, reason: `${action} reason`, phase: 'running',
    fromWeights: { baseline: 100 - from, candidate: from }, toWeights: { baseline: 100 - to, candidate: to }, policyHash: policy.hash, ...extra,
  };
}

const AUDIT: AuditEntry[] = [
  audit(NOW - 15 * 60_000, 7, 'hold', 50, 50, {
    reason: 'not significant yet',
    evidence: { baseline: { exposures: 10_000, outcomes: 1000 }, candidate: { exposures: 10_000, outcomes: 1100 }, lift: 0.1, statistic: 4.2, threshold: 40, pValue: 0.238 },
  }),
  audit(STEP_START, 6, 'advance', 10, 50),
  audit(NOW - 48 * HOUR, 1, 'started', 0, 10, { actor: 'arn:aws:sts::111111111111:assumed-role/Deployer/ana' }),
];

/** Whether a GetMetricData call reads the cohorts (every query a bucket's series). */
const isCohortRead = (input: GetMetricDataCommandInput) => input.MetricDataQueries!.every((q) => q.Id!.startsWith('c'));
/** Whether a GetMetricData call reads the hourly series (which asks for no errors). */
const isHourly = (input: GetMetricDataCommandInput) => !isCohortRead(input) && !input.MetricDataQueries!.some((q) => q.Id!.endsWith('_errors'));

/** `total` spread over the unit buckets as evenly as whole numbers allow. */
const spread = (total: number, bucket: number) => Math.floor(total / UNIT_BUCKETS) + (bucket < total % UNIT_BUCKETS ? 1 : 0);

/** Predictions and their conversions per variant in the test's cohorts. */
const COHORTS = { c0: { exposures: 8000, outcomes: 800 }, c1: { exposures: 8000, outcomes: 880 } };

/**
 * The cohorts (`predictions` spread over the buckets in the step's first period), the step
 * window's totals per query id, and hourly datapoints (the candidate has none in the first hour).
 */
function metricsFake(input: GetMetricDataCommandInput, predictions: Record<'c0' | 'c1', { exposures: number; outcomes: number }> = COHORTS) {
  if (isCohortRead(input)) {
    return {
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const [variant, bucket, series] = q.Id!.split('_');
        return { Id: q.Id, Values: [spread(predictions[variant as 'c0' | 'c1'][series as 'exposures' | 'outcomes'], Number(bucket))], Timestamps: [new Date(STEP_START + 15 * 60_000)], StatusCode: 'Complete' as const };
      }),
    };
  }
  if (!isHourly(input)) {
    const totals: Record<string, number> = {
      v0_invocations: 10_000, v0_conversions: 1000, v0_errors: 10, v0_p99latencyms: 120,
      v1_invocations: 10_000, v1_conversions: 1100, v1_errors: 200, v1_p99latencyms: 130,
    };
    return { MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: q.Id! in totals ? [totals[q.Id!]] : [], Timestamps: [new Date(STEP_START)], StatusCode: 'Complete' as const })) };
  }
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const series = (id: string) => {
    const [variant, key] = id.split('_');
    const points = hours.filter((h) => variant === 'v0' || h > 0);
    const value = (h: number) => (key === 'invocations' ? 1000 : variant === 'v0' ? 100 : 100 + h);
    return { Id: id, Values: points.map(value), Timestamps: points.map((h) => new Date(HOURLY_START + h * HOUR)), StatusCode: 'Complete' as const };
  };
  return { MetricDataResults: input.MetricDataQueries!.map((q) => series(q.Id!)) };
}

function endpointWith(mocks: MockedAws, options: { rollout?: boolean } = {}): void {
  mocks.sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointName: 'churn-ab', EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', EndpointConfigName: 'churn-ab-config-3', EndpointStatus: 'InService',
    ProductionVariants: [
      { VariantName: 'baseline', CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 2, DesiredInstanceCount: 2 },
      { VariantName: 'candidate', CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 1, DesiredInstanceCount: 2 },
    ],
  } as never);
  mocks.sagemaker.on(DescribeEndpointConfigCommand).resolves({
    ProductionVariants: [
      { VariantName: 'baseline', InstanceType: 'ml.g5.xlarge', ModelName: 'churn-v1' },
      { VariantName: 'candidate', InstanceType: 'ml.g5.2xlarge', ModelName: 'churn-v2' },
    ],
  } as never);
  mocks.sagemaker.on(DescribeModelCommand).callsFake((input: { ModelName: string }) => ({
    ModelName: input.ModelName, PrimaryContainer: { ModelPackageName: `arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/${input.ModelName === 'churn-v2' ? 3 : 1}` },
  }));
  if (options.rollout === false) {
    mocks.dynamodb.on(GetItemCommand).rejects(serviceError('ResourceNotFoundException', 'Requested resource not found'));
    mocks.dynamodb.on(QueryCommand).rejects(serviceError('ResourceNotFoundException', 'Requested resource not found'));
  } else {
    mocks.dynamodb.on(GetItemCommand).resolves({ Item: rolloutToItem(record) as never });
    mocks.dynamodb.on(QueryCommand).resolves({ Items: AUDIT.map(auditToItem) as never });
  }
  mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => metricsFake(input));
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: 'OK' }] });
}

const metricCalls = (mocks: MockedAws) => mocks.cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);

describe('modelship status', () => {
  test('reads the endpoint, its config, the rollout, the audit trail, alarms, both request windows, the cohorts and the hourly series', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    expect(await status({ endpoint: 'churn-ab' }, fakeIo(), mocks.aws)).toBe(0);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(DescribeEndpointCommand, { EndpointName: 'churn-ab' });
    expect(mocks.sagemaker).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, { EndpointConfigName: 'churn-ab-config-3' });
    expect(mocks.dynamodb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: 'modelship-rollouts-churn-ab', Key: { pk: { S: 'churn-ab' }, sk: { S: 'ROLLOUT' } }, ConsistentRead: true,
    });
    expect(mocks.dynamodb).toHaveReceivedCommandWith(QueryCommand, { TableName: 'modelship-rollouts-churn-ab', ScanIndexForward: false, Limit: 50 });
    expect(mocks.cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['churn-ab-candidate-5xx'] });

    const calls = metricCalls(mocks);
    expect(calls).toHaveLength(4);
    const requests = calls.filter((c) => !isHourly(c) && !isCohortRead(c));
    const [step, rollout, cohorts, hourly] = [
      requests.find((c) => c.StartTime!.getTime() === STEP_START)!, requests.find((c) => c.StartTime!.getTime() === record.state.startedAtMs)!, calls.find(isCohortRead)!, calls.find(isHourly)!,
    ];
    // The controller's two windows, ending where its do (the recorded lag before now): every
    // gateway series per variant, one period, the policy's outcome type.
    expect(step).toMatchObject({ StartTime: new Date(STEP_START), EndTime: new Date(NOW - LAG_SECONDS * 1000) });
    expect(rollout).toMatchObject({ EndTime: new Date(NOW - LAG_SECONDS * 1000) });
    expect(rollout.MetricDataQueries).toHaveLength(12);
    expect(step.MetricDataQueries).toHaveLength(12);
    expect(step.MetricDataQueries).toContainEqual({
      Id: 'v1_conversions', ReturnData: true,
      MetricStat: {
        Period: 4 * 3600 - 180, Stat: 'Sum',
        Metric: {
          Namespace: 'Modelship', MetricName: 'Conversions',
          Dimensions: [
            { Name: 'service', Value: 'modelship-gateway' }, { Name: 'EndpointName', Value: 'churn-ab' },
            { Name: 'VariantName', Value: 'candidate' }, { Name: 'OutcomeType', Value: 'checkout' },
          ],
        },
      },
    });
    // The controller's cohort read: from the rollout's start (no burn-in for a progressive rollout)
    // to now less the lag and the recorded attribution window (10:57), in whole 15-minute periods,
    // every bucket's series; the step's cohorts are its periods from the step's start.
    expect(cohorts).toMatchObject({ StartTime: new Date(record.state.startedAtMs + 15 * 60_000), EndTime: new Date('2026-11-22T10:45:00Z') });
    expect(cohorts.MetricDataQueries).toHaveLength(2 * UNIT_BUCKETS * 2);
    expect(cohorts.MetricDataQueries).toContainEqual({
      Id: 'c1_7_outcomes', ReturnData: true,
      MetricStat: {
        Period: 900, Stat: 'Sum',
        Metric: {
          Namespace: 'Modelship', MetricName: 'ExperimentConversions',
          Dimensions: [
            { Name: 'service', Value: 'modelship-gateway' }, { Name: 'EndpointName', Value: 'churn-ab' },
            { Name: 'VariantName', Value: 'candidate' }, { Name: 'UnitBucket', Value: '7' }, { Name: 'OutcomeType', Value: 'checkout' },
          ],
        },
      },
    });
    // The hourly series: only invocations and conversions, 24 whole hours back.
    expect(hourly).toMatchObject({ StartTime: new Date(HOURLY_START), EndTime: new Date(NOW) });
    expect(hourly.MetricDataQueries!.map((q) => q.Id)).toEqual(['v0_invocations', 'v0_conversions', 'v1_invocations', 'v1_conversions']);
  });

  test('shows variants, the rollout, decisions with their evidence, metrics, guardrails and charts', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const io = fakeIo();
    await status({ endpoint: 'churn-ab' }, io, mocks.aws);
    expect(io.lines).toEqual(expect.arrayContaining([
      'Endpoint churn-ab  InService  config churn-ab-config-3',
      '  version 7, last written 2026-11-22 11:45:00Z by release-controller',
      'Recent decisions',
      '  variant    weight  desired  instances  instance type  model',
      '  baseline      50%      50%          2  ml.g5.xlarge   churn-v1',
      '  candidate     50%      50%        1→2  ml.g5.2xlarge  churn-v2',
      'Rollout #1 of churn/3: progressive baseline → candidate, running, step 2/3',
      '  weights baseline 50 / candidate 50; started 2026-11-20 12:00:00Z; step since 2026-11-22 08:00:00Z',
      '  time                  actor                      action   weights        lift    statistic  p-value  reason',
      '  2026-11-22 11:45:00Z  release-controller         hold     50/50 → 50/50  +10.0%  4.2 / 40   0.24     not significant yet',
      '  2026-11-22 08:00:00Z  release-controller         advance  90/10 → 50/50  -       -          -        advance reason',
      '  2026-11-20 12:00:00Z  assumed-role/Deployer/ana  started  100/0 → 90/10  -       -          -        started reason',
      'Metrics since the step began: 2026-11-22 08:00:00Z, 3h 57m 00s; outcome \'checkout\'',
      // The test's cohort window: the step's predictions old enough for their outcomes (the attribution window before the lag).
      '  the test\'s predictions: 2026-11-22 08:15:00Z to 2026-11-22 10:57:00Z (old enough for their outcomes)',
      // Requests and errors from the step's requests; predictions and conversions from the cohorts.
      '  variant    requests  predictions  conversions  conv. rate  errors     p99',
      '  baseline     10,000        8,000          800      10.00%   0.10%  120 ms',
      '  candidate    10,000        8,000          880      11.00%   2.00%  130 ms',
      // An even split where the weights expect one: Λ = √(V / (V + τ²)) with the binomial V = ¼ / 16,000 and τ = 0.02 · ¼.
      '  sample ratio: 50.00% of the test\'s predictions on candidate, 50.00% expected (Λ = 0.62) ok',
      '  guardrail alarm churn-ab-candidate-5xx (state OK) ok',
      '  guardrail candidate error rate over this step 2.00% (max 1.00%) BREACHED',
      '  guardrail candidate p99 over this step 130 ms (max 500 ms) ok',
      '  guardrail candidate error rate over the rollout 2.00% (max 1.00%) BREACHED',
      '  guardrail candidate p99 over the rollout 130 ms (max 500 ms) ok',
      'Weights over time  █ baseline  ▒ candidate',
      '  2026-11-20 12:00:00Z  ██████████████████▒▒  baseline 90 / candidate 10  started',
      '  2026-11-22 08:00:00Z  ██████████▒▒▒▒▒▒▒▒▒▒  baseline 50 / candidate 50  advance',
      'Conversion rate per hour, last 24 h from 2026-11-21 13:00:00Z (scale 10.00% to 12.30%)',
      `  baseline   ${'▁'.repeat(24)}  latest 10.00%`,
      '  candidate   ▁▂▂▂▃▃▃▃▄▄▄▅▅▅▆▆▆▆▇▇▇██  latest 12.30%',
    ]));
  });

  test('prints one JSON object with the endpoint, variants, rollout, decisions, metrics and series', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const io = fakeIo();
    expect(await status({ endpoint: 'churn-ab', json: true }, io, mocks.aws)).toBe(0);
    expect(io.lines).toHaveLength(1);
    const report = JSON.parse(io.lines[0]) as StatusReport;
    expect(Object.keys(report)).toEqual(['endpoint', 'candidateVersion', 'variants', 'rollout', 'decisions', 'metrics', 'series']);
    expect(report.candidateVersion).toBe(record.candidateVersion);
    expect(report.endpoint).toEqual({ name: 'churn-ab', arn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', status: 'InService', configName: 'churn-ab-config-3' });
    expect(report.variants[1]).toEqual({
      name: 'candidate', weight: 50, desiredWeight: 50, currentInstanceCount: 1, desiredInstanceCount: 2, instanceType: 'ml.g5.2xlarge', modelName: 'churn-v2',
    });
    expect(report.rollout).toEqual(record);
    expect(report.decisions).toEqual(AUDIT);
    expect(report.metrics).toMatchObject({
      window: { source: 'step', startMs: STEP_START, endMs: NOW - LAG_SECONDS * 1000 }, outcomeType: 'checkout', kind: 'rate', complete: true,
      cohorts: { startMs: STEP_START + 15 * 60_000, endMs: COHORT_END, missingPeriods: 0 },
    });
    // Requests, errors and latency from the step's requests; predictions and their conversions from the test's cohorts.
    expect(report.metrics.variants).toEqual({
      baseline: { invocations: 10_000, errors: 10, errorRate: 0.001, p99LatencyMs: 120, predictions: 8000, outcomes: 800, businessMetric: 0.1 },
      candidate: { invocations: 10_000, errors: 200, errorRate: 0.02, p99LatencyMs: 130, predictions: 8000, outcomes: 880, businessMetric: 0.11 },
    });
    // The controller's sample-ratio check on the same cohorts: an even split, as the weights expect.
    expect(report.metrics.sampleRatio).toMatchObject({ observed: 0.5, expected: 0.5, mismatch: false, leansMismatched: false });
    expect(report.metrics.guardrails.map((verdict) => ({ ...verdict, reason: undefined }))).toEqual([
      { guardrail: 'alarmNames', alarmName: 'churn-ab-candidate-5xx', alarmState: 'OK', state: 'ok', reason: undefined },
      { guardrail: 'maxErrorRate', window: 'step', value: 0.02, limit: 0.01, state: 'breached', reason: undefined },
      { guardrail: 'maxP99LatencyMs', window: 'step', value: 130, limit: 500, state: 'ok', reason: undefined },
      { guardrail: 'maxErrorRate', window: 'rollout', value: 0.02, limit: 0.01, state: 'breached', reason: undefined },
      { guardrail: 'maxP99LatencyMs', window: 'rollout', value: 130, limit: 500, state: 'ok', reason: undefined },
    ]);
    expect(report.metrics.guardrails[1].reason).toBe(
      "Aborted: the candidate's error rate over this step is 2.00% (200 of 10000), significantly above the 1.00% limit.");
    expect(report.series.weights).toEqual([
      { atMs: NOW - 48 * HOUR, action: 'started', weights: { baseline: 90, candidate: 10 } },
      { atMs: STEP_START, action: 'advance', weights: { baseline: 50, candidate: 50 } },
    ]);
    expect(report.series.hourly.startMs).toBe(HOURLY_START);
    expect(report.series.hourly.periodSeconds).toBe(3600);
    expect(report.series.hourly.variants.baseline.businessMetric).toEqual(new Array(24).fill(0.1));
    expect(report.series.hourly.variants.candidate.businessMetric[0]).toBeNull();
    expect(report.series.hourly.variants.candidate.businessMetric[23]).toBeCloseTo(0.123, 10);
    expect(report.series.hourly.variants.candidate.invocations.slice(0, 2)).toEqual([null, 1000]);
  });

  test('treats a missing rollout table as no rollout: the last hour\'s metrics for purchases, no guardrails, no decisions', async () => {
    const mocks = mockedAws();
    endpointWith(mocks, { rollout: false });
    const io = fakeIo();
    expect(await status({ endpoint: 'churn-ab' }, io, mocks.aws)).toBe(0);
    expect(io.lines).toContain('Rollout  none (no rollout record for churn-ab)');
    expect(io.lines).toContain('  no audit trail');
    expect(io.lines).toContain('Metrics over the last hour (no rollout): 2026-11-22 11:00:00Z, 1h 00m 00s; outcome \'purchase\'');
    expect(io.output()).not.toContain('guardrail');
    expect(io.output()).not.toContain('Weights over time');
    const step = metricCalls(mocks).find((c) => !isHourly(c))!;
    expect(step).toMatchObject({ StartTime: new Date(NOW - HOUR), EndTime: new Date(NOW) });
    expect(JSON.stringify(step.MetricDataQueries)).toContain('"Value":"purchase"');
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  test('reads the metrics the controller recorded on the rollout, when it reads custom ones', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const shop = (metricName: string, arm: string) => ({ namespace: 'Shop', metricName, dimensions: { Arm: arm }, stat: 'Sum' });
    const arm = (name: string) => ({ invocations: shop('Sessions', name), conversions: shop('Orders', name) });
    mocks.dynamodb.on(GetItemCommand).resolves({ Item: rolloutToItem({ ...record, source: { custom: { baseline: arm('a'), candidate: arm('b') } } }) as never });
    await status({ endpoint: 'churn-ab' }, fakeIo(), mocks.aws);
    // The step window is one period of four hours less the lag; the hourly series has hours.
    const calls = metricCalls(mocks);
    const step = calls.find((c) => !isCohortRead(c) && c.MetricDataQueries![0].MetricStat!.Period === 4 * 3600 - LAG_SECONDS)!;
    expect(step.MetricDataQueries!.map((q) => [q.Id, q.MetricStat!.Metric!.Namespace, q.MetricStat!.Metric!.MetricName])).toEqual([
      ['v0_invocations', 'Shop', 'Sessions'], ['v0_conversions', 'Shop', 'Orders'], ['v1_invocations', 'Shop', 'Sessions'], ['v1_conversions', 'Shop', 'Orders'],
    ]);
    // The cohorts: the user's metrics as one bucket.
    const cohorts = calls.filter(isCohortRead);
    expect(cohorts).toHaveLength(1);
    expect(cohorts[0].MetricDataQueries!.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Period])).toEqual([
      ['c0_0_exposures', 'Sessions', 900], ['c0_0_outcomes', 'Orders', 900], ['c1_0_exposures', 'Sessions', 900], ['c1_0_outcomes', 'Orders', 900],
    ]);
  });

  test('reads the gateway\'s metrics and the policy\'s delay for a rollout an earlier controller recorded without them', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const earlier: RolloutRecord = { ...record, source: undefined, attributionSeconds: undefined };
    mocks.dynamodb.on(GetItemCommand).resolves({ Item: rolloutToItem(earlier) as never });
    expect(Object.keys(rolloutToItem(earlier))).not.toContain('source');
    const io = fakeIo();
    await status({ endpoint: 'churn-ab', json: true }, io, mocks.aws);
    const cohorts = metricCalls(mocks).filter(isCohortRead);
    expect(cohorts).toHaveLength(1);
    // No outcomeDelayMinutes in the policy: no attribution window, the cohorts end at the lag (11:57).
    expect(cohorts[0]).toMatchObject({ StartTime: new Date(record.state.startedAtMs + 15 * 60_000), EndTime: new Date('2026-11-22T11:45:00Z') });
    expect(JSON.stringify(cohorts[0].MetricDataQueries)).toContain('"MetricName":"ExperimentExposures"');
    expect((JSON.parse(io.lines[0]) as StatusReport).metrics.cohorts).toEqual({ startMs: STEP_START + 15 * 60_000, endMs: NOW - LAG_SECONDS * 1000, missingPeriods: 0 });
  });

  test('shows the verdict the controller acts on: errors over the limit but not significantly are not a breach', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    // 3 errors in 100 calls against a 1% limit: P(X >= 3) = 0.08, so the controller holds.
    mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({
        Id: q.Id, StatusCode: 'Complete' as const,
        Values: isHourly(input) ? [] : [{ v0_invocations: 100, v1_invocations: 100, v1_errors: 3 }[q.Id!] ?? 0],
      })),
    }));
    const io = fakeIo();
    await status({ endpoint: 'churn-ab', json: true }, io, mocks.aws);
    const report = JSON.parse(io.lines[0]) as StatusReport;
    const errorRate = report.metrics.guardrails.filter((g) => g.guardrail === 'maxErrorRate');
    expect(errorRate).toHaveLength(2);
    expect(errorRate.map((g) => [g.value, g.state])).toEqual([[0.03, 'ok'], [0.03, 'ok']]);
    const requests = { baseline: { invocations: 100, errors: 0 }, candidate: { invocations: 100, errors: 3 } };
    const cohorts = { baseline: { exposures: [100], outcomes: [0] }, candidate: { exposures: [100], outcomes: [0] } };
    const observation: Observation = {
      atMs: NOW, complete: true, cohortEndMs: COHORT_END, breachedAlarms: [], step: cohorts, total: cohorts, requests: { step: requests, total: requests },
    };
    expect(decide(policy.spec, record.state, observation).action).not.toBe('abort');
  });

  test('shows a sample-ratio mismatch, and the periods left out for a missing outcome series', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const skewed = { c0: { exposures: 8500, outcomes: 850 }, c1: { exposures: 7500, outcomes: 750 } };
    mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const out = metricsFake(input, skewed);
      // The candidate's predictions of the next two periods have no outcome series in bucket 0.
      return !isCohortRead(input) ? out : {
        MetricDataResults: out.MetricDataResults.map((r) => (r.Id !== 'c1_0_exposures' ? r : {
          ...r, Values: [...r.Values, 5, 5], Timestamps: [...r.Timestamps, new Date(STEP_START + 30 * 60_000), new Date(STEP_START + 45 * 60_000)],
        })),
      };
    });
    const text = fakeIo();
    await status({ endpoint: 'churn-ab' }, text, mocks.aws);
    expect(text.lines).toContain(
      '  the test\'s predictions: 2026-11-22 08:15:00Z to 2026-11-22 10:57:00Z (old enough for their outcomes); 2 periods of the rollout left out for a missing series');
    const line = text.lines.filter((l) => l.startsWith('  sample ratio:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^ {2}sample ratio: 46\.88% of the test's predictions on candidate, 50\.00% expected \(Λ = \S+\) MISMATCH$/);
    // The predictions column leaves the missing periods out, as the controller does.
    expect(text.lines).toContain('  candidate    10,000        7,500          750      10.00%   2.00%  130 ms');
    const json = fakeIo();
    await status({ endpoint: 'churn-ab', json: true }, json, mocks.aws);
    const report = JSON.parse(json.lines[0]) as StatusReport;
    expect(report.metrics.cohorts).toEqual({ startMs: STEP_START + 15 * 60_000, endMs: COHORT_END, missingPeriods: 2 });
    expect(report.metrics.sampleRatio).toMatchObject({ observed: 7500 / 16_000, expected: 0.5, mismatch: true });
    expect(report.metrics.sampleRatio!.statistic).toBeGreaterThanOrEqual(100);
  });

  test('treats a table without a record as no rollout, and reads the table --table names', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    mocks.dynamodb.on(GetItemCommand).resolves({});
    mocks.dynamodb.on(QueryCommand).resolves({ Items: [] });
    const io = fakeIo();
    await status({ endpoint: 'churn-ab', table: 'my-rollouts', json: true }, io, mocks.aws);
    expect(mocks.dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'my-rollouts' });
    expect(mocks.dynamodb).toHaveReceivedCommandWith(QueryCommand, { TableName: 'my-rollouts' });
    expect(JSON.parse(io.lines[0])).toMatchObject({ rollout: null, decisions: [], metrics: { window: { source: 'last-hour' }, guardrails: [] } });
  });

  test('says when the metrics are incomplete', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const io = fakeIo();
    await status({ endpoint: 'churn-ab' }, io, mocks.aws);
    expect(io.output()).toContain('metrics incomplete');
    expect(io.output()).toContain('Conversion rate per hour, last 24 h: no data');
  });

  test('follows GetMetricData\'s pages', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      if (isHourly(input) || isCohortRead(input)) {
        return { MetricDataResults: [] };
      }
      return input.NextToken === 'page-2'
        ? { MetricDataResults: [{ Id: 'v0_invocations', Values: [400], StatusCode: 'Complete' }, { Id: 'v1_invocations', Values: [10], StatusCode: 'Complete' }] }
        : { MetricDataResults: [{ Id: 'v0_invocations', Values: [600], StatusCode: 'PartialData' }], NextToken: 'page-2' };
    });
    const io = fakeIo();
    await status({ endpoint: 'churn-ab', json: true }, io, mocks.aws);
    const calls = metricCalls(mocks);
    // Both of the controller's request windows, each over two pages.
    expect(calls.filter((c) => c.NextToken === 'page-2')).toHaveLength(2);
    const report = JSON.parse(io.lines[0]) as StatusReport;
    expect(report.metrics.variants.baseline.invocations).toBe(1000);
    expect(report.metrics.complete).toBe(true);
  });

  test('refreshes with --watch, clearing the screen on a terminal, until stopped', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const io = fakeIo({ interactive: true });
    expect(await status({ endpoint: 'churn-ab', watch: '5', maxRefreshes: 2 }, io, mocks.aws)).toBe(0);
    expect(mocks.sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 2);
    expect(io.sleeps).toEqual([5000]);
    expect(io.lines.filter((l) => l === '\u001b[2J\u001b[H')).toHaveLength(2);
    expect(io.lines.filter((l) => l.includes('every 5 s'))).toHaveLength(2);
    // The second refresh reads at the later time.
    expect(metricCalls(mocks).map((c) => c.EndTime)).toContainEqual(new Date(NOW + 5000));
  });

  test('refreshes every 10 s with a bare --watch; no screen clearing off a terminal; JSON lines with --json', async () => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const text = fakeIo();
    await status({ endpoint: 'churn-ab', watch: true, maxRefreshes: 2 }, text, mocks.aws);
    expect(text.sleeps).toEqual([10_000]);
    expect(text.output()).not.toContain('\u001b[2J');
    const json = fakeIo();
    await status({ endpoint: 'churn-ab', watch: true, json: true, maxRefreshes: 2 }, json, mocks.aws);
    expect(json.lines.map((l) => JSON.parse(l).endpoint.name)).toEqual(['churn-ab', 'churn-ab']);
  });

  test.each(['0', '3601', 'soon', '1.5'])('rejects --watch %p as bad input before calling AWS', async (watch) => {
    const mocks = mockedAws();
    endpointWith(mocks);
    const run = status({ endpoint: 'churn-ab', watch }, fakeIo(), mocks.aws);
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toMatchObject({ exitCode: 2, message: `--watch must be an integer from 1 to 3600, got '${watch}'` });
    expect(mocks.sagemaker).not.toHaveReceivedCommand(DescribeEndpointCommand);
  });

  describe('with --timeout', () => {
    /** The rollout's phase at each read, in turn (the last one stays). */
    function phases(mocks: MockedAws, ...sequence: RolloutRecord['state']['phase'][]): void {
      let read = 0;
      mocks.dynamodb.on(GetItemCommand).callsFake(() => ({ Item: rolloutToItem({ ...record, state: { ...record.state, phase: sequence[Math.min(read++, sequence.length - 1)] } }) }));
    }

    test.each([
      ['promoted', 'healthy', EXIT.OK],
      ['paused', 'paused', EXIT.PAUSED],
      ['awaiting-approval', 'paused', EXIT.PAUSED],
      ['aborted', 'degraded', EXIT.DEGRADED],
    ] as const)('waits while the rollout runs; %s ends the wait as %s with exit %d', async (phase, health, code) => {
      const mocks = mockedAws();
      endpointWith(mocks);
      phases(mocks, 'running', 'running', phase);
      const io = fakeIo();
      await expect(status({ endpoint: 'churn-ab', timeout: '600', watch: '30' }, io, mocks.aws)).resolves.toBe(code);
      expect(io.sleeps).toEqual([30_000, 30_000]);
      expect(io.lines.at(-1)).toBe(`${health} (exit ${code})`);
      expect(io.progressed).toEqual(['waiting for churn-ab: rollout running, endpoint InService', 'waiting for churn-ab: rollout running, endpoint InService']);
    });

    test('still progressing at the deadline is a timeout (exit 5), and --json says so', async () => {
      const mocks = mockedAws();
      endpointWith(mocks);
      const io = fakeIo();
      await expect(status({ endpoint: 'churn-ab', timeout: '100', json: true }, io, mocks.aws)).resolves.toBe(EXIT.TIMEOUT);
      // Polls every 30 s by default; the last read is at the deadline.
      expect(io.sleeps).toEqual([30_000, 30_000, 30_000, 10_000]);
      expect(JSON.parse(io.lines[0])).toMatchObject({ health: 'progressing', exitCode: 5, rollout: { state: { phase: 'running' } } });
    });

    test('waits through a deploy of a new version: the previous version\'s promoted rollout is not healthy', async () => {
      const mocks = mockedAws();
      endpointWith(mocks);
      phases(mocks, 'promoted');
      // The candidate serves version 4 once the deploy is in service; the stored rollout is of version 3 until the controller's tick.
      let reads = 0;
      mocks.sagemaker.on(DescribeModelCommand).callsFake(() => ({
        ModelName: 'churn-v2', PrimaryContainer: { ModelPackageName: `arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/${reads++ < 2 ? 4 : 3}` },
      }));
      const io = fakeIo();
      await expect(status({ endpoint: 'churn-ab', timeout: '600', watch: '30' }, io, mocks.aws)).resolves.toBe(EXIT.OK);
      expect(io.sleeps).toEqual([30_000, 30_000]);
    });

    test('health: an endpoint that failed is degraded; one updating, or serving another version than the rollout\'s, is progressing', () => {
      const endpoint = { name: 'e', arn: 'a', status: 'InService', configName: 'c' };
      expect(rolloutHealth({ endpoint: { ...endpoint, status: 'Failed' }, rollout: record })).toBe('degraded');
      const promoted = { ...record, state: { ...record.state, phase: 'promoted' as const } };
      expect(rolloutHealth({ endpoint, rollout: promoted, candidateVersion: record.candidateVersion })).toBe('healthy');
      expect(rolloutHealth({ endpoint: { ...endpoint, status: 'Updating' }, rollout: promoted })).toBe('progressing');
      expect(rolloutHealth({ endpoint, rollout: promoted, candidateVersion: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4' })).toBe('progressing');
      expect(rolloutHealth({ endpoint, rollout: null })).toBe('healthy');
      expect(rolloutHealth({ endpoint: { ...endpoint, status: 'Updating' }, rollout: null })).toBe('progressing');
      expect(new Set(Object.values(HEALTH_EXIT)).size).toBe(4);
    });

    test.each(['0', '604801', 'an hour'])('rejects --timeout %p before calling AWS', async (timeout) => {
      const mocks = mockedAws();
      await expect(status({ endpoint: 'churn-ab', timeout }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: `--timeout must be an integer from 1 to 604800, got '${timeout}'` });
      expect(mocks.sagemaker.calls()).toHaveLength(0);
    });
  });

  test('an unknown endpoint is bad input (exit 2)', async () => {
    const mocks = mockedAws();
    mocks.sagemaker.on(DescribeEndpointCommand).rejects(serviceError('ValidationException', 'Could not find endpoint "nope".'));
    await expect(status({ endpoint: 'nope' }, fakeIo(), mocks.aws)).rejects.toMatchObject({ exitCode: 2, message: "unknown endpoint 'nope' in region eu-west-1" });
  });
});
