import { DescribeEndpointConfigCommand } from '@aws-sdk/client-sagemaker';
import { GATEWAY_METRICS } from '../../hooks/runtime/gateway-settings';
import { getMetricData } from '../../hooks/runtime/cloudwatch-reads';
import { observeRollout } from '../../hooks/runtime/rollout-observation';
import { evaluateGuardrails, GuardrailVerdict } from '../../release/guardrails';
import { cohortPeriods } from '../../release/cohorts';
import { sampleRatioCheck, stepCohortStartMs, testStartMs, testWindow } from '../../release/decide';
import { cohortPeriodSeconds, countsByPeriod, countsFromResults, gatewayMetrics, metricQueries, VariantCounts, VariantMetrics } from '../../release/metric-queries';
import { AuditEntry, RolloutRecord, shortVersion } from '../../release/rollout-record';
import type { PrimaryMetricSpec, RequestCounts } from '../../release/rollout-types';
import type { SampleRatioResult } from '../../release/statistics';
import type { AwsClients } from '../aws';
import { percentages } from '../../release/weights';
import { CHANGEABLE_STATUS, describeEndpoint, EndpointView, servedVersion } from '../endpoint';
import {
  formatCount, formatDuration, formatLift, formatNumber, formatPercent, formatTime, formatWeights, sparkline, table, weightBar, weightBarLegend,
} from '../format';
import { Io, paint } from '../io';
import { numberOption, optionalNumberOption, readOptions } from '../options';
import { EXIT } from '../errors';
import { auditTrail, rolloutIfAny, shortActor } from '../rollout';

/** Options of `modelship status <endpoint>`. */
export interface StatusOptions {
  /** The endpoint's name. */
  readonly endpoint: string;
  /** The rollout table. @default modelship-rollouts-<endpoint> */
  readonly table?: string;
  /** Refresh every so many seconds until interrupted (`true`: every 10 s). @default - show once */
  readonly watch?: boolean | string;
  /** Print one JSON object per refresh instead of text. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
  /**
   * Wait up to this many seconds (1-604800) until the rollout is healthy, paused or degraded, then exit with its code
   * (`healthExitCode`); polls every `watch` seconds (30 by default).
   * @default - show once
   */
  readonly timeout?: string;
  /** Stop watching after this many refreshes (for tests; not a command-line option). @default - until interrupted */
  readonly maxRefreshes?: number;
}

/** A production variant with what serves it. */
export interface VariantStatus {
  readonly name: string;
  /** Current weight in whole percent. */
  readonly weight: number;
  /** Desired weight in whole percent (differs while an update is in progress). */
  readonly desiredWeight: number;
  readonly currentInstanceCount?: number;
  readonly desiredInstanceCount?: number;
  readonly instanceType?: string;
  readonly modelName?: string;
}

/** A variant's counts over the window and the rates a person reads. */
export interface VariantMetricsView extends RequestCounts {
  readonly errorRate?: number;
  /**
   * With a rollout, the predictions in the test's cohort window (what the controller decides on); absent without one.
   */
  readonly predictions?: number;
  /** Conversions (rate metrics) or the outcome values' sum (mean metrics): of those predictions, or reported in the window without a rollout. */
  readonly outcomes: number;
  /** Outcomes per prediction (per invocation without a rollout). */
  readonly businessMetric?: number;
}

/** A guardrail's verdict as the controller reaches it, with an alarm guardrail's state. */
export interface GuardrailView extends GuardrailVerdict {
  /** The alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`, `MISSING`), for alarm guardrails. */
  readonly alarmState?: string;
}

/** Business metric and guardrails over a window. */
export interface MetricsView {
  /** `step`: requests since the rollout's current step began; `last-hour` without a rollout. */
  readonly window: { readonly source: 'step' | 'last-hour'; readonly startMs: number; readonly endMs: number };
  /**
   * With a rollout, the test's cohort window: predictions from `startMs` to `endMs` (the attribution window before the requests' end).
   * @default - absent without a rollout
   */
  readonly cohorts?: { readonly startMs: number; readonly endMs: number; readonly missingPeriods: number };
  /**
   * With a rollout, the sample-ratio check the controller runs on the test's window (`sampleRatioCheck`).
   * @default - absent without a rollout, for a bandit, or before the check has enough predictions
   */
  readonly sampleRatio?: SampleRatioResult;
  readonly outcomeType: string;
  readonly kind: PrimaryMetricSpec['kind'];
  /** False when CloudWatch reported partial data or a variant with traffic has no datapoint yet. */
  readonly complete: boolean;
  readonly variants: Record<string, VariantMetricsView>;
  /** The controller's verdicts now: `evaluateGuardrails` over `observeRollout`, its windows and lag (none without a rollout). */
  readonly guardrails: GuardrailView[];
}

/** Time series for the charts. */
export interface SeriesView {
  /** Weights after each audit entry that changed them, oldest first. */
  readonly weights: { readonly atMs: number; readonly action: string; readonly weights: Readonly<Record<string, number>> }[];
  /** The business metric per hour over the last 24 hours; null for an hour without data. */
  readonly hourly: {
    readonly startMs: number;
    readonly periodSeconds: number;
    readonly variants: Record<string, { readonly invocations: (number | null)[]; readonly businessMetric: (number | null)[] }>;
  };
}

/** What `status --json` prints. */
export interface StatusReport {
  readonly endpoint: { readonly name: string; readonly arn: string; readonly status: string; readonly configName: string; readonly failureReason?: string };
  /**
   * With a rollout, the model version its candidate variant serves now; another than the rollout's means the next rollout has not started yet.
   * @default - absent without a rollout, or when SageMaker cannot say
   */
  readonly candidateVersion?: string;
  readonly variants: VariantStatus[];
  readonly rollout: RolloutRecord | null;
  /** The newest audit entries, newest first. */
  readonly decisions: AuditEntry[];
  readonly metrics: MetricsView;
  readonly series: SeriesView;
}

/** Audit entries shown as recent decisions. */
export const RECENT_DECISIONS = 5;
/** Audit entries read for the weights chart. */
const WEIGHT_HISTORY = 50;
/** Rows of the weights chart. */
const WEIGHT_ROWS = 10;
const HOUR_MS = 3_600_000;
const HOURS = 24;
const DEFAULT_OUTCOME: PrimaryMetricSpec = { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.05, betterWhen: 'higher' };
/** Clears a terminal and moves to its top-left corner. */
const CLEAR_SCREEN = '\u001b[2J\u001b[H';

/**
 * `modelship status <endpoint>`: the endpoint and its variants, the rollout, recent decisions with
 * their evidence, the business metric and guardrails per variant, and small charts; refreshed
 * with `--watch`.
 */
export async function status(options: StatusOptions, io: Io, aws: AwsClients): Promise<number> {
  const { interval, timeout } = readOptions({
    interval: () => optionalNumberOption('watch', options.watch, { min: 1, max: 3600, integer: true }, 10),
    timeout: () => (options.timeout === undefined ? undefined : numberOption('timeout', options.timeout, { min: 1, max: 604800, integer: true })),
  });
  if (timeout !== undefined) {
    return awaitHealth(options, io, aws, timeout, interval ?? 30);
  }
  for (let refreshes = 1; ; refreshes += 1) {
    const report = await collectStatus(options, io.now(), aws);
    if (options.json) {
      io.out(JSON.stringify(report));
    } else {
      if (interval !== undefined && io.interactive) {
        io.out(CLEAR_SCREEN);
      }
      if (interval !== undefined) {
        io.out(paint(io, 'dim', `every ${interval} s, at ${formatTime(io.now())} (Ctrl-C to stop)`));
      }
      for (const line of renderStatus(report, io)) {
        io.out(line);
      }
    }
    if (interval === undefined || (options.maxRefreshes !== undefined && refreshes >= options.maxRefreshes)) {
      return 0;
    }
    await io.sleep(interval * 1000);
  }
}

/**
 * Where a rollout stands for a script: `healthy` (promoted, or an endpoint without a rollout
 * in service), `progressing` (running, or the endpoint updating), `paused` (paused or awaiting
 * approval: a person decides) or `degraded` (aborted, or the endpoint failed).
 */
export type RolloutHealth = 'healthy' | 'progressing' | 'paused' | 'degraded';

/** The health of what `status` read. */
export function rolloutHealth(report: Pick<StatusReport, 'endpoint' | 'rollout' | 'candidateVersion'>): RolloutHealth {
  if (/Failed|OutOfService/.test(report.endpoint.status)) {
    return 'degraded';
  }
  const { rollout, candidateVersion } = report;
  // A deploy in progress, or a new version whose rollout has not started yet: the stored phase is the previous version's.
  if (report.endpoint.status !== CHANGEABLE_STATUS || (rollout?.candidateVersion !== undefined && candidateVersion !== undefined && candidateVersion !== rollout.candidateVersion)) {
    return 'progressing';
  }
  switch (rollout?.state.phase) {
    case 'promoted':
      return 'healthy';
    case 'aborted':
      return 'degraded';
    case 'paused':
    case 'awaiting-approval':
      return 'paused';
    case 'running':
      return 'progressing';
    default:
      return 'healthy';
  }
}

/** `status --timeout`'s exit code for each health; still progressing at the deadline is a timeout. */
export const HEALTH_EXIT: Readonly<Record<RolloutHealth, number>> = {
  healthy: EXIT.OK, paused: EXIT.PAUSED, degraded: EXIT.DEGRADED, progressing: EXIT.TIMEOUT,
};

/** Polls until the rollout is no longer progressing or `timeout` seconds passed; shows the last read and exits with its health's code. */
async function awaitHealth(options: StatusOptions, io: Io, aws: AwsClients, timeout: number, interval: number): Promise<number> {
  const deadline = io.now() + timeout * 1000;
  for (;;) {
    const report = await collectStatus(options, io.now(), aws);
    const health = rolloutHealth(report);
    if (health !== 'progressing' || io.now() >= deadline) {
      const code = HEALTH_EXIT[health];
      if (options.json) {
        io.out(JSON.stringify({ ...report, health, exitCode: code }));
      } else {
        renderStatus(report, io).forEach((line) => io.out(line));
        const colour = health === 'healthy' ? 'green' : health === 'degraded' ? 'red' : 'yellow';
        io.out(paint(io, colour, health === 'progressing' ? `still progressing after ${timeout} s (exit ${code})` : `${health} (exit ${code})`));
      }
      return code;
    }
    io.progress(`waiting for ${report.endpoint.name}: rollout ${report.rollout?.state.phase ?? 'none'}, endpoint ${report.endpoint.status}`);
    await io.sleep(Math.min(interval * 1000, deadline - io.now()));
  }
}

/** Everything `status` shows, read at `nowMs`. */
export async function collectStatus(options: Pick<StatusOptions, 'endpoint' | 'table'>, nowMs: number, aws: AwsClients): Promise<StatusReport> {
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const [config, rollout, audit] = await Promise.all([
    endpointConfig(aws, endpoint.configName),
    rolloutIfAny(aws, endpoint.name, options.table),
    auditTrail(aws, endpoint.name, WEIGHT_HISTORY, options.table),
  ]);
  const names = endpoint.variants.map((v) => v.name);
  const metric = rollout?.policy.metric ?? DEFAULT_OUTCOME;
  // The metrics the controller decides on, as it recorded them; the gateway's for the rest.
  const gateway = gatewayMetrics({ ...GATEWAY_METRICS, endpointName: endpoint.name, outcomeType: metric.outcomeType }, names);
  const source = { ...gateway, ...rollout?.source?.custom };
  const [metrics, hourly] = await Promise.all([
    windowMetrics(aws, endpoint, rollout, metric, source, nowMs),
    hourlySeries(aws, names, metric, source, nowMs),
  ]);
  const desired = percentages(Object.fromEntries(endpoint.variants.map((v) => [v.name, v.desiredWeight])));
  const candidateVersion = rollout ? await servedVersion(aws, endpoint, rollout.policy.candidate) : undefined;
  return {
    endpoint: {
      name: endpoint.name, arn: endpoint.arn, status: endpoint.status, configName: endpoint.configName,
      ...(endpoint.failureReason ? { failureReason: endpoint.failureReason } : {}),
    },
    ...(candidateVersion !== undefined ? { candidateVersion } : {}),
    variants: endpoint.variants.map((v) => ({
      name: v.name,
      weight: endpoint.weights[v.name] ?? 0,
      desiredWeight: desired[v.name] ?? 0,
      ...(v.currentInstanceCount !== undefined ? { currentInstanceCount: v.currentInstanceCount } : {}),
      ...(v.desiredInstanceCount !== undefined ? { desiredInstanceCount: v.desiredInstanceCount } : {}),
      ...config.get(v.name),
    })),
    rollout: rollout ?? null,
    decisions: audit.slice(0, RECENT_DECISIONS),
    metrics,
    series: {
      weights: audit
        .filter((e) => e.action === 'started' || JSON.stringify(e.fromWeights) !== JSON.stringify(e.toWeights))
        .slice(0, WEIGHT_ROWS)
        .reverse()
        .map((e) => ({ atMs: e.atMs, action: e.action, weights: e.toWeights })),
      hourly,
    },
  };
}

/** Instance type and model per variant, from the endpoint config; nothing when it is gone. */
async function endpointConfig(aws: AwsClients, configName: string): Promise<Map<string, { instanceType?: string; modelName?: string }>> {
  if (!configName) {
    return new Map();
  }
  try {
    const out = await aws.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
    return new Map((out.ProductionVariants ?? []).map((v) => [v.VariantName ?? '', {
      ...(v.InstanceType ? { instanceType: v.InstanceType } : v.ServerlessConfig ? { instanceType: 'serverless' } : {}),
      ...(v.ModelName ? { modelName: v.ModelName } : {}),
    }]));
  } catch (error) {
    if ((error as Error).name === 'ValidationException') {
      return new Map();
    }
    throw error;
  }
}

function businessMetric(kind: PrimaryMetricSpec['kind'], counts: VariantCounts): number | undefined {
  if (counts.invocations <= 0) {
    return undefined;
  }
  return (kind === 'rate' ? counts.conversions : counts.valueSum) / counts.invocations;
}

/** A variant's requests with the rates a person reads, and the outcomes of `predictions`. */
function metricsView(requests: RequestCounts, outcomes: number, predictions?: number): VariantMetricsView {
  const per = predictions ?? requests.invocations;
  return {
    invocations: requests.invocations,
    errors: requests.errors,
    ...(requests.p99LatencyMs !== undefined ? { p99LatencyMs: requests.p99LatencyMs } : {}),
    ...(requests.invocations > 0 ? { errorRate: requests.errors / requests.invocations } : {}),
    ...(predictions !== undefined ? { predictions } : {}),
    outcomes,
    ...(per > 0 ? { businessMetric: outcomes / per } : {}),
  };
}

/**
 * With a rollout, what the controller decides on now (`observeRollout`: its variants, its step
 * window and lag) and its guardrail verdicts (`evaluateGuardrails`); without one, every variant
 * over the last hour.
 */
async function windowMetrics(
  aws: AwsClients, endpoint: EndpointView, rollout: RolloutRecord | undefined, metric: PrimaryMetricSpec,
  source: Record<string, VariantMetrics>, nowMs: number,
): Promise<MetricsView> {
  const common = { outcomeType: metric.outcomeType, kind: metric.kind };
  if (rollout) {
    const { policy, state } = rollout;
    const lagSeconds = rollout.metricLagSeconds ?? 0;
    const attributionSeconds = rollout.attributionSeconds ?? (policy.outcomeDelayMinutes ?? 0) * 60;
    const { observation, alarmStates } = await observeRollout(aws.cloudwatch, policy, state, {
      source: rollout.source ?? { gateway: { ...GATEWAY_METRICS, endpointName: endpoint.name, outcomeType: metric.outcomeType } },
      lagSeconds,
      attributionSeconds,
    }, nowMs);
    const { window } = testWindow(policy, observation);
    const ratio = sampleRatioCheck(policy, state, observation);
    const total = (values: readonly number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);
    const zero: RequestCounts = { invocations: 0, errors: 0 };
    return {
      ...common,
      window: { source: 'step', startMs: state.stepStartedAtMs, endMs: nowMs - lagSeconds * 1000 },
      cohorts: {
        // Whole periods from the test's start (the step's, for a progressive rollout), as read.
        startMs: cohortPeriods(policy.kind === 'progressive' ? stepCohortStartMs(policy, state) : testStartMs(policy, state), observation.cohortEndMs,
          cohortPeriodSeconds(testStartMs(policy, state), nowMs)).firstMs,
        endMs: observation.cohortEndMs,
        missingPeriods: observation.missingPeriods ?? 0,
      },
      complete: observation.complete,
      ...(ratio ? { sampleRatio: ratio } : {}),
      variants: Object.fromEntries([policy.baseline, policy.candidate].map((n) => [n,
        metricsView(observation.requests.step[n] ?? zero, total(window[n]?.outcomes), total(window[n]?.exposures))])),
      guardrails: evaluateGuardrails(rollout.policy, observation).map((verdict) => (verdict.alarmName !== undefined
        ? { ...verdict, alarmState: alarmStates.get(verdict.alarmName) ?? 'MISSING' }
        : verdict)),
    };
  }
  const names = endpoint.variants.map((v) => v.name);
  const startMs = nowMs - HOUR_MS;
  const live = names.filter((n) => (endpoint.weights[n] ?? 0) > 0);
  const read = countsFromResults(await getMetricData(aws.cloudwatch, metricQueries(source, names, startMs, nowMs), startMs, nowMs), names, live);
  const views = Object.fromEntries(Object.entries(read.counts).map(([n, c]) => [n, metricsView(c, metric.kind === 'rate' ? c.conversions : c.valueSum)]));
  return { ...common, window: { source: 'last-hour', startMs, endMs: nowMs }, complete: read.complete, variants: views, guardrails: [] };
}

/** The business metric per hour over the last 24 hours, per variant. */
async function hourlySeries(
  aws: AwsClients, names: readonly string[], metric: PrimaryMetricSpec, source: Record<string, VariantMetrics>, nowMs: number,
): Promise<SeriesView['hourly']> {
  const startMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS - (HOURS - 1) * HOUR_MS;
  const needed: Record<string, VariantMetrics> = Object.fromEntries(names.map((n) => {
    const all = source[n];
    return [n, { invocations: all.invocations, ...(metric.kind === 'rate' ? { conversions: all.conversions } : { valueSum: all.valueSum }) }];
  }));
  const results = await getMetricData(aws.cloudwatch, metricQueries(needed, names, startMs, nowMs, HOUR_MS / 1000), startMs, nowMs);
  const periods = countsByPeriod(results, names, startMs, HOUR_MS / 1000, HOURS);
  return {
    startMs,
    periodSeconds: HOUR_MS / 1000,
    variants: Object.fromEntries(names.map((n) => [n, {
      invocations: periods[n].map((c) => c?.invocations ?? null),
      businessMetric: periods[n].map((c) => (c ? businessMetric(metric.kind, c) ?? null : null)),
    }])),
  };
}

function metricLabel(kind: PrimaryMetricSpec['kind']): string {
  return kind === 'rate' ? 'conv. rate' : 'value/inv.';
}

function formatMetric(kind: PrimaryMetricSpec['kind'], value: number | undefined | null): string {
  if (value === undefined || value === null) {
    return '-';
  }
  return kind === 'rate' ? formatPercent(value, 2) : formatNumber(value, 4);
}

function instances(v: VariantStatus): string {
  if (v.currentInstanceCount === undefined) {
    return '-';
  }
  return v.desiredInstanceCount !== undefined && v.desiredInstanceCount !== v.currentInstanceCount
    ? `${v.currentInstanceCount}→${v.desiredInstanceCount}`
    : String(v.currentInstanceCount);
}

/** The report as text for a person. */
export function renderStatus(report: StatusReport, io: Pick<Io, 'colour'>): string[] {
  const lines: string[] = [];
  const { endpoint, rollout, metrics } = report;
  const statusColour = endpoint.status === 'InService' ? 'green' : /Failed/.test(endpoint.status) ? 'red' : 'yellow';
  lines.push(`${paint(io, 'bold', `Endpoint ${endpoint.name}`)}  ${paint(io, statusColour, endpoint.status)}  config ${endpoint.configName || '-'}`);
  if (endpoint.failureReason) {
    lines.push(paint(io, 'red', `  ${endpoint.failureReason}`));
  }
  lines.push(...table(
    ['variant', 'weight', 'desired', 'instances', 'instance type', 'model'],
    report.variants.map((v) => [v.name, `${v.weight}%`, `${v.desiredWeight}%`, instances(v), v.instanceType ?? '-', v.modelName ?? '-']),
    [1, 2, 3],
  ).map((l) => `  ${l}`));

  lines.push('');
  if (!rollout) {
    lines.push(`${paint(io, 'bold', 'Rollout')}  none (no rollout record for ${endpoint.name})`);
  } else {
    const { policy, state } = rollout;
    const step = policy.kind === 'progressive' ? `, step ${state.step + 1}/${policy.steps.length}` : '';
    const phaseColour = state.phase === 'running' ? 'green' : state.phase === 'aborted' ? 'red' : 'yellow';
    lines.push(`${paint(io, 'bold', `Rollout #${rollout.rolloutId}`)} of ${shortVersion(rollout.candidateVersion)}: ${policy.kind} ${policy.baseline} → ${policy.candidate}, ${paint(io, phaseColour, state.phase)}${step}`);
    lines.push(`  weights ${formatWeights(state.weights, [policy.baseline, policy.candidate])}; started ${formatTime(state.startedAtMs)}; step since ${formatTime(state.stepStartedAtMs)}`);
    lines.push(`  version ${rollout.version}, last written ${formatTime(rollout.updatedAtMs)} by ${shortActor(rollout.updatedBy)}`);
    if (report.candidateVersion !== undefined && rollout.candidateVersion !== undefined && report.candidateVersion !== rollout.candidateVersion) {
      lines.push(paint(io, 'yellow', `  '${policy.candidate}' serves ${shortVersion(report.candidateVersion)} now: its rollout starts at the controller's next tick (or 'modelship rollout start')`));
    }
  }

  lines.push('');
  lines.push(paint(io, 'bold', 'Recent decisions'));
  if (report.decisions.length === 0) {
    lines.push('  no audit trail');
  } else {
    const order = rollout ? [rollout.policy.baseline, rollout.policy.candidate] : report.variants.map((v) => v.name);
    const weights = (w: Readonly<Record<string, number>>) => order.filter((n) => n in w).concat(Object.keys(w).filter((n) => !order.includes(n))).map((n) => w[n]).join('/');
    lines.push(...table(
      ['time', 'actor', 'action', 'weights', 'lift', 'statistic', 'p-value', 'reason'],
      report.decisions.map((e) => [
        formatTime(e.atMs), shortActor(e.actor), e.action, `${weights(e.fromWeights)} → ${weights(e.toWeights)}`,
        formatLift(e.evidence?.lift),
        e.evidence?.statistic !== undefined ? `${formatNumber(e.evidence.statistic)} / ${formatNumber(e.evidence.threshold)}` : '-',
        formatNumber(e.evidence?.pValue, 2), e.reason,
      ]),
    ).map((l) => `  ${l}`));
  }

  lines.push('');
  const since = metrics.window.source === 'step' ? 'since the step began' : 'over the last hour (no rollout)';
  lines.push(`${paint(io, 'bold', 'Metrics')} ${since}: ${formatTime(metrics.window.startMs)}, ${formatDuration((metrics.window.endMs - metrics.window.startMs) / 1000)}; outcome '${metrics.outcomeType}'`);
  if (metrics.cohorts) {
    const n = metrics.cohorts.missingPeriods;
    const missing = n > 0 ? `; ${n} period${n === 1 ? '' : 's'} of the rollout left out for a missing series` : '';
    lines.push(`  the test's predictions: ${formatTime(metrics.cohorts.startMs)} to ${formatTime(metrics.cohorts.endMs)} (old enough for their outcomes)${missing}`);
  }
  lines.push(...table(
    ['variant', 'requests', 'predictions', metrics.kind === 'rate' ? 'conversions' : 'value', metricLabel(metrics.kind), 'errors', 'p99'],
    Object.entries(metrics.variants).map(([n, m]) => [
      n, formatCount(m.invocations), m.predictions !== undefined ? formatCount(m.predictions) : '-', formatCount(m.outcomes), formatMetric(metrics.kind, m.businessMetric), formatPercent(m.errorRate, 2),
      m.p99LatencyMs !== undefined ? `${Math.round(m.p99LatencyMs)} ms` : '-',
    ]),
    [1, 2, 3, 4, 5, 6],
  ).map((l) => `  ${l}`));
  if (metrics.sampleRatio) {
    const r = metrics.sampleRatio;
    const state = r.mismatch ? paint(io, 'red', 'MISMATCH') : r.leansMismatched ? paint(io, 'yellow', 'leaning (promotions wait)') : paint(io, 'green', 'ok');
    lines.push(`  sample ratio: ${formatPercent(r.observed, 2)} of the test's predictions on ${rollout?.policy.candidate}, ${formatPercent(r.expected, 2)} expected (Λ = ${formatNumber(r.statistic)}) ${state}`);
  }
  if (!metrics.complete) {
    lines.push(paint(io, 'yellow', '  metrics incomplete: a variant with traffic has no datapoints yet, or CloudWatch returned partial data'));
  }
  const candidate = rollout?.policy.candidate;
  const verdicts = { 'ok': paint(io, 'green', 'ok'), 'breached': paint(io, 'red', 'BREACHED'), 'not-enough-data': paint(io, 'dim', 'not enough data') };
  for (const g of metrics.guardrails) {
    const over = g.window === 'step' ? 'this step' : 'the rollout';
    if (g.guardrail === 'maxErrorRate') {
      lines.push(`  guardrail ${candidate} error rate over ${over} ${formatPercent(g.value, 2)} (max ${formatPercent(g.limit, 2)}) ${verdicts[g.state]}`);
    } else if (g.guardrail === 'maxP99LatencyMs') {
      lines.push(`  guardrail ${candidate} p99 over ${over} ${g.value === undefined ? '-' : `${Math.round(g.value)} ms`} (max ${g.limit} ms) ${verdicts[g.state]}`);
    } else {
      lines.push(`  guardrail alarm ${g.alarmName} (state ${g.alarmState}) ${verdicts[g.state]}`);
    }
  }

  lines.push(...renderCharts(report, io));
  return lines;
}

function renderCharts(report: StatusReport, io: Pick<Io, 'colour'>): string[] {
  const lines: string[] = [];
  const order = report.rollout ? [report.rollout.policy.baseline, report.rollout.policy.candidate] : report.variants.map((v) => v.name);
  if (report.series.weights.length > 0) {
    const names = [...new Set([...order, ...report.series.weights.flatMap((p) => Object.keys(p.weights))])];
    lines.push('');
    lines.push(`${paint(io, 'bold', 'Weights over time')}  ${weightBarLegend(names)}`);
    for (const point of report.series.weights) {
      lines.push(`  ${formatTime(point.atMs)}  ${weightBar(point.weights, names)}  ${formatWeights(point.weights, names)}  ${paint(io, 'dim', point.action)}`);
    }
  }
  const { hourly } = report.series;
  const all = Object.values(hourly.variants).flatMap((v) => v.businessMetric).filter((x): x is number => x !== null);
  lines.push('');
  const label = report.metrics.kind === 'rate' ? 'Conversion rate' : 'Value per invocation';
  if (all.length === 0) {
    lines.push(`${paint(io, 'bold', `${label} per hour`)}, last 24 h: no data`);
    return lines;
  }
  const [low, high] = [Math.min(...all), Math.max(...all)];
  lines.push(`${paint(io, 'bold', `${label} per hour`)}, last 24 h from ${formatTime(hourly.startMs)} (scale ${formatMetric(report.metrics.kind, low)} to ${formatMetric(report.metrics.kind, high)})`);
  const width = Math.max(...Object.keys(hourly.variants).map((n) => n.length));
  for (const [name, series] of Object.entries(hourly.variants)) {
    const known = series.businessMetric.filter((x): x is number => x !== null);
    const latest = known.length > 0 ? known[known.length - 1] : undefined;
    lines.push(`  ${name.padEnd(width)}  ${sparkline(series.businessMetric.map((x) => x ?? undefined), low, high)}  latest ${formatMetric(report.metrics.kind, latest)}`);
  }
  return lines;
}
