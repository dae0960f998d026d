import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { countsFromResults, metricQueries, ReadCounts, VariantMetrics } from '../../release/metric-queries';
import type { Observation, PolicySpec, RolloutState } from '../../release/rollout-types';
import { alarmStates, getMetricData } from './cloudwatch-reads';

/** Where and how a rollout's metrics are read. */
export interface ObservationSource {
  /** Each variant's metrics (the gateway's, or the ones the user named). */
  readonly metrics: Readonly<Record<string, VariantMetrics>>;
  /** How far behind real time the windows end, so late datapoints are in. */
  readonly lagSeconds: number;
}

/** An observation, and the state of every guardrail alarm for those who show it. */
export interface RolloutObservation {
  readonly observation: Observation;
  readonly alarmStates: ReadonlyMap<string, string>;
}

async function readCounts(cloudwatch: CloudWatchClient, source: ObservationSource, variants: readonly string[], startMs: number, endMs: number, expectTraffic: readonly string[]): Promise<ReadCounts> {
  if (endMs <= startMs) {
    return countsFromResults([], variants, expectTraffic);
  }
  const results = await getMetricData(cloudwatch, metricQueries(source.metrics, variants, startMs, endMs), startMs, endMs);
  return countsFromResults(results, variants, expectTraffic);
}

/**
 * What the controller decides on at `nowMs`, read the one way the controller and `modelship
 * status` share: the policy's two variants over the rollout and over the current step, both
 * windows ending `lagSeconds` before now, and the guardrail alarms.
 */
export async function observeRollout(
  cloudwatch: CloudWatchClient, policy: PolicySpec, state: RolloutState, source: ObservationSource, nowMs: number,
): Promise<RolloutObservation> {
  const variants = [policy.baseline, policy.candidate];
  const endMs = nowMs - source.lagSeconds * 1000;
  const live = Object.entries(state.weights).filter(([, w]) => w > 0).map(([v]) => v);
  const [total, step, alarms] = await Promise.all([
    readCounts(cloudwatch, source, variants, state.startedAtMs, endMs, live),
    readCounts(cloudwatch, source, variants, state.stepStartedAtMs, endMs, live),
    alarmStates(cloudwatch, policy.guardrails.alarmNames ?? []),
  ]);
  return {
    observation: {
      atMs: nowMs,
      complete: total.complete && step.complete,
      total: total.counts,
      step: step.counts,
      breachedAlarms: [...alarms].filter(([, s]) => s === 'ALARM').map(([name]) => name),
    },
    alarmStates: alarms,
  };
}
