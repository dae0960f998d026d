import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricDataCommandInput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { observeRollout, ObservationSource } from '../../../lib/hooks/runtime/rollout-observation';
import { UNIT_BUCKETS } from '../../../lib/release/metric-queries';
import { RolloutPolicy } from '../../../lib/release/rollout-policy';
import type { RolloutState } from '../../../lib/release/rollout-types';

const cloudwatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'eu-west-1' });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Not on a period boundary, so the test sees whole periods chosen. */
const NOW = Date.parse('2026-11-22T12:07:30Z');
const STARTED = Date.parse('2026-11-20T11:50:00Z');
const STEP_STARTED = Date.parse('2026-11-21T12:00:00Z');
const LAG_SECONDS = 180;

/** An experiment whose test leaves out its first two hours. */
const policy = RolloutPolicy.experiment({
  baseline: 'baseline', candidate: 'candidate', burnInHours: 2, minRunHours: 24,
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.05, alarmNames: ['churn-ab-5xx'] },
}).spec;
const state: RolloutState = { phase: 'running', step: 0, weights: { baseline: 50, candidate: 50 }, startedAtMs: STARTED, stepStartedAtMs: STEP_STARTED };
const source: ObservationSource = {
  source: { gateway: { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' } },
  lagSeconds: LAG_SECONDS,
  attributionSeconds: 3600,
};

const isCohortRead = (input: GetMetricDataCommandInput) => input.MetricDataQueries!.every((q) => q.Id!.startsWith('c'));
const calls = () => cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);

/** Cohort datapoints per query id (variant index, bucket, series), stamped with their period's start. */
const COHORT_POINTS: Record<string, [string, number][]> = {
  c0_0_exposures: [['2026-11-20T14:00:00Z', 300]],
  c0_0_outcomes: [['2026-11-20T14:00:00Z', 30]],
  c0_1_exposures: [['2026-11-22T10:45:00Z', 200]],
  c0_1_outcomes: [['2026-11-22T10:45:00Z', 10]],
  c1_0_exposures: [['2026-11-21T00:00:00Z', 500]],
  c1_0_outcomes: [['2026-11-21T00:00:00Z', 60]],
};

/** GetMetricData as CloudWatch answers it: requests per window (rollout or step), cohorts per period. */
function answer(status: { cohorts?: MetricDataResult['StatusCode']; requests?: MetricDataResult['StatusCode'] } = {}) {
  return (input: GetMetricDataCommandInput) => {
    if (isCohortRead(input)) {
      return {
        MetricDataResults: input.MetricDataQueries!.map((q) => {
          const points = COHORT_POINTS[q.Id!] ?? [];
          return { Id: q.Id, Values: points.map(([, v]) => v), Timestamps: points.map(([t]) => new Date(t)), StatusCode: status.cohorts ?? 'Complete' };
        }),
      };
    }
    const rollout = input.StartTime!.getTime() === STARTED;
    const values: Record<string, number> = rollout
      ? { v0_invocations: 5000, v0_errors: 5, v1_invocations: 4000, v1_errors: 40, v1_p99latencyms: 210 }
      : { v0_invocations: 2000, v0_errors: 2, v1_invocations: 1900, v1_errors: 19, v1_p99latencyms: 180 };
    return {
      MetricDataResults: input.MetricDataQueries!.map((q) => ({
        Id: q.Id, Values: q.Id! in values ? [values[q.Id!]] : [], Timestamps: q.Id! in values ? [input.StartTime!] : [], StatusCode: status.requests ?? 'Complete',
      })),
    };
  };
}

beforeEach(() => {
  cloudwatch.reset();
  cloudwatch.on(GetMetricDataCommand).callsFake(answer());
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-5xx', StateValue: 'OK' }] });
});

describe('observeRollout', () => {
  test('reads the requests over the rollout and the step, both ending the lag before now', async () => {
    await observeRollout(client, policy, state, source, NOW);
    const requests = calls().filter((c) => !isCohortRead(c));
    expect(requests).toHaveLength(2);
    expect(requests.map((c) => [c.StartTime, c.EndTime])).toEqual([
      [new Date(STARTED), new Date(NOW - LAG_SECONDS * 1000)],
      [new Date(STEP_STARTED), new Date(NOW - LAG_SECONDS * 1000)],
    ]);
    // The gateway's six operational series per variant.
    expect(requests[0].MetricDataQueries).toHaveLength(12);
  });

  test('reads the cohorts in whole 15-minute periods from the test\'s start to the lag and the attribution window before now', async () => {
    await observeRollout(client, policy, state, source, NOW);
    const cohorts = calls().filter(isCohortRead);
    expect(cohorts).toHaveLength(1);
    // The test starts at 13:50 (the rollout's start plus the two-hour burn-in): the first whole
    // period begins at 14:00. Now less the lag and the hour of attribution is 11:04:30: the last
    // whole period ends at 11:00.
    expect(cohorts[0]).toMatchObject({ StartTime: new Date('2026-11-20T14:00:00Z'), EndTime: new Date('2026-11-22T11:00:00Z') });
    expect(cohorts[0].MetricDataQueries).toHaveLength(2 * UNIT_BUCKETS * 2);
    expect(new Set(cohorts[0].MetricDataQueries!.map((q) => q.MetricStat!.Period))).toEqual(new Set([900]));
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['churn-ab-5xx'] });
  });

  test('totals a rate policy\'s cohorts and requests as CloudWatch returned them', async () => {
    const { observation, alarmStates } = await observeRollout(client, policy, state, source, NOW);
    expect(observation.atMs).toBe(NOW);
    expect(observation.complete).toBe(true);
    expect(observation.cohortEndMs).toBe(Date.parse('2026-11-22T11:04:30Z'));
    expect(observation.missingPeriods).toBe(0);
    const zeros = (n: number) => new Array<number>(n).fill(0);
    expect(observation.total.baseline).toEqual({ exposures: [300, 200, ...zeros(UNIT_BUCKETS - 2)], outcomes: [30, 10, ...zeros(UNIT_BUCKETS - 2)] });
    expect(observation.total.candidate).toEqual({ exposures: [500, ...zeros(UNIT_BUCKETS - 1)], outcomes: [60, ...zeros(UNIT_BUCKETS - 1)] });
    // The step began on the 21st at noon: only the baseline's predictions of the 22nd are in it.
    expect(observation.step.baseline).toEqual({ exposures: [0, 200, ...zeros(UNIT_BUCKETS - 2)], outcomes: [0, 10, ...zeros(UNIT_BUCKETS - 2)] });
    expect(observation.step.candidate.exposures).toEqual(zeros(UNIT_BUCKETS));
    expect(observation.requests.total.candidate).toEqual({ invocations: 4000, errors: 40, p99LatencyMs: 210, conversions: 0, valueSum: 0, valueSumOfSquares: 0 });
    expect(observation.requests.step.baseline).toMatchObject({ invocations: 2000, errors: 2 });
    expect(observation.breachedAlarms).toEqual([]);
    expect([...alarmStates]).toEqual([['churn-ab-5xx', 'OK']]);
  });

  test('counts a period where a variant\'s outcome series is missing as missing, never as zero outcomes', async () => {
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const out = answer()(input);
      // The candidate's outcomes of the 21st never arrived.
      return isCohortRead(input) ? { MetricDataResults: out.MetricDataResults.filter((r) => r.Id !== 'c1_0_outcomes') } : out;
    });
    const { observation } = await observeRollout(client, policy, state, source, NOW);
    expect(observation.missingPeriods).toBe(1);
    expect(observation.total.candidate.exposures.reduce((a, b) => a + b, 0)).toBe(0);
    expect(observation.total.baseline.exposures.reduce((a, b) => a + b, 0)).toBe(500);
  });

  test('makes no cohort read while no whole period of predictions is old enough, and still reads the requests', async () => {
    const young: RolloutState = { ...state, startedAtMs: NOW - 30 * MINUTE, stepStartedAtMs: NOW - 30 * MINUTE };
    const { observation } = await observeRollout(client, { ...policy, burnInHours: 0 }, young, source, NOW);
    expect(calls().filter(isCohortRead)).toHaveLength(0);
    expect(calls()).toHaveLength(2);
    expect(observation.total.baseline.exposures).toEqual(new Array<number>(UNIT_BUCKETS).fill(0));
    expect(observation.missingPeriods).toBe(0);
    expect(observation.complete).toBe(true);
  });

  test('reads nothing from CloudWatch\'s metrics while the rollout is younger than the lag, and holds as incomplete', async () => {
    const now: RolloutState = { ...state, startedAtMs: NOW - MINUTE, stepStartedAtMs: NOW - MINUTE };
    const { observation } = await observeRollout(client, { ...policy, burnInHours: 0 }, now, source, NOW);
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    // Both variants have weight, yet no invocation datapoint can exist: not complete.
    expect(observation.complete).toBe(false);
  });

  test.each([
    ['the cohort read', { cohorts: 'PartialData' as const }],
    ['a request read', { requests: 'PartialData' as const }],
  ])('is incomplete when CloudWatch returns partial data for %s', async (_, status) => {
    cloudwatch.on(GetMetricDataCommand).callsFake(answer(status));
    const { observation } = await observeRollout(client, policy, state, source, NOW);
    expect(observation.complete).toBe(false);
  });

  test('names the guardrail alarms in ALARM', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'churn-ab-5xx', StateValue: 'ALARM' }] });
    const { observation } = await observeRollout(client, policy, state, source, NOW);
    expect(observation.breachedAlarms).toEqual(['churn-ab-5xx']);
  });

  test('reads hourly cohort periods once the test began more than 63 days ago', async () => {
    const old: RolloutState = { ...state, startedAtMs: NOW - 64 * 24 * HOUR - 10 * MINUTE, stepStartedAtMs: NOW - 64 * 24 * HOUR };
    await observeRollout(client, { ...policy, burnInHours: 0, maxDurationHours: 2160 }, old, { ...source, attributionSeconds: 0 }, NOW);
    const [cohorts] = calls().filter(isCohortRead);
    expect(new Set(cohorts.MetricDataQueries!.map((q) => q.MetricStat!.Period))).toEqual(new Set([3600]));
    // Started 2026-09-19 11:57:30, the test from 12:12:30 once the weights settled → the first whole hour is 13:00;
    // now less the lag is 12:04:30 → the last whole hour ends at 12:00.
    expect(cohorts).toMatchObject({ StartTime: new Date('2026-09-19T13:00:00Z'), EndTime: new Date('2026-11-22T12:00:00Z') });
  });
});
