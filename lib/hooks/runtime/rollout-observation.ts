import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  cohortPeriodSeconds, cohortQueries, cohortsFromResults, countsFromResults, metricQueries, ReadCounts, RolloutMetrics, RolloutMetricSource, rolloutMetrics,
} from '../../release/metric-queries';
import { cohortPeriods } from '../../release/cohorts';
import { stepCohortStartMs, testStartMs } from '../../release/decide';
import type { Observation, PolicySpec, RolloutState } from '../../release/rollout-types';
import { alarmStates, getMetricData } from './cloudwatch-reads';

/** Where and how a rollout's metrics are read. */
export interface ObservationSource {
  /** The gateway's metrics, or the ones the user named (read through `rolloutMetrics`). */
  readonly source: RolloutMetricSource;
  /** How far behind real time the windows end, so late datapoints are in. */
  readonly lagSeconds: number;
  /** The attribution window: the cohort windows end this much earlier still, so the predictions' outcomes are in. */
  readonly attributionSeconds: number;
}

/** An observation, and the state of every guardrail alarm for those who show it. */
export interface RolloutObservation {
  readonly observation: Observation;
  readonly alarmStates: ReadonlyMap<string, string>;
}

async function readRequests(cloudwatch: CloudWatchClient, metrics: RolloutMetrics, variants: readonly string[], startMs: number, endMs: number, expectTraffic: readonly string[]): Promise<ReadCounts> {
  if (endMs <= startMs) {
    return countsFromResults([], variants, expectTraffic);
  }
  const results = await getMetricData(cloudwatch, metricQueries(metrics.requests, variants, startMs, endMs), startMs, endMs);
  return countsFromResults(results, variants, expectTraffic);
}

/**
 * What the controller decides on at `nowMs`, read the one way the controller and `modelship
 * status` share: the policy's two variants' requests over the rollout and over the current step,
 * both ending `lagSeconds` before now (for the guardrails); their cohorts, the predictions made
 * since the test (`testStartMs`) and the step (`stepCohortStartMs`) began and at least `attributionSeconds` old, in 15-minute
 * periods, with the outcomes attributed to them (for the test); and the guardrail alarms.
 */
export async function observeRollout(
  cloudwatch: CloudWatchClient, policy: PolicySpec, state: RolloutState, source: ObservationSource, nowMs: number,
): Promise<RolloutObservation> {
  const variants = [policy.baseline, policy.candidate];
  const metrics = rolloutMetrics(source.source, variants, policy.metric.kind);
  const endMs = nowMs - source.lagSeconds * 1000;
  const cohortEndMs = endMs - source.attributionSeconds * 1000;
  const testStart = testStartMs(policy, state);
  const periodSeconds = cohortPeriodSeconds(testStart, nowMs);
  // Whole periods aligned to the epoch, as CloudWatch aggregates them.
  const periods = cohortPeriods(testStart, cohortEndMs, periodSeconds);
  const queries = cohortQueries(metrics, variants, periodSeconds);
  const live = Object.entries(state.weights).filter(([, w]) => w > 0).map(([v]) => v);
  const [total, step, cohortResults, alarms] = await Promise.all([
    readRequests(cloudwatch, metrics, variants, state.startedAtMs, endMs, live),
    readRequests(cloudwatch, metrics, variants, state.stepStartedAtMs, endMs, live),
    periods.count > 0 && queries.length > 0
      ? getMetricData(cloudwatch, queries, periods.firstMs, periods.firstMs + periods.count * periodSeconds * 1000)
      : Promise.resolve([]),
    alarmStates(cloudwatch, policy.guardrails.alarmNames ?? []),
  ]);
  const cohorts = cohortsFromResults(cohortResults, metrics, variants, { startMs: testStart, stepStartMs: stepCohortStartMs(policy, state), endMs: cohortEndMs, periodSeconds });
  return {
    observation: {
      atMs: nowMs,
      complete: total.complete && step.complete && cohortResults.every((r) => r.StatusCode === undefined || r.StatusCode === 'Complete'),
      cohortEndMs,
      missingPeriods: cohorts.missingPeriods,
      total: cohorts.total,
      step: cohorts.step,
      requests: { total: total.counts, step: step.counts },
      breachedAlarms: [...alarms].filter(([, s]) => s === 'ALARM').map(([name]) => name),
    },
    alarmStates: alarms,
  };
}
