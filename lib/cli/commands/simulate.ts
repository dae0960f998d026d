import { readFile } from 'fs/promises';
import * as z from 'zod/mini';
import { ModelshipError } from '../../runtime/errors';
import { parsePolicy } from '../../release/rollout-policy';
import type { PolicySpec } from '../../release/rollout-types';
import { Scenario, simulate, SimulationResult, TrajectoryPoint } from '../../release/simulate';
import { medianInterval, ProportionInterval, wilsonInterval } from '../../release/statistics';
import { CliError, EXIT } from '../errors';
import { formatCount, formatNumber, formatPercent, formatWeights, table } from '../format';
import { Io, paint } from '../io';
import { numberOption, readOptions } from '../options';

/** Options of `modelship simulate` (numbers arrive as strings from the command line). */
export interface SimulateOptions {
  /** A rollout policy as a JSON file (what `parsePolicy` reads); required. */
  readonly policy?: string;
  /** The baseline's true conversion rate, 0-1. @default 0.1 */
  readonly baselineRate?: string | number;
  /** The candidate's true conversion rate, 0-1. @default 0.1 */
  readonly candidateRate?: string | number;
  /** Invocations per hour, on average (> 0). @default 2000 */
  readonly traffic?: string | number;
  /** How long each simulated rollout may run, in hours (> 0). @default 336 */
  readonly hours?: string | number;
  /** Simulated rollouts for the operating characteristics, 1-10000. @default 200 */
  readonly runs?: string | number;
  /** The first run's seed (an integer); run i uses seed + i. @default 1 */
  readonly seed?: string | number;
  /** Mean minutes from a prediction to its outcome's report (≥ 0). @default 0 */
  readonly outcomeDelay?: string | number;
  /** Hours the baseline served all traffic before the rollout (≥ 0). @default 0 */
  readonly preRollout?: string | number;
  /** Mean requests per user (≥ 1). @default 1 */
  readonly requestsPerUser?: string | number;
  /** A JSON file with more of the world (`WorldFile`). @default - none */
  readonly world?: string;
  /** Print `{ trajectory, characteristics }` as JSON instead of text. @default false */
  readonly json?: boolean;
  readonly region?: string;
  readonly profile?: string;
}

/** A share of the runs with its Wilson 95% interval. */
export interface Share extends ProportionInterval {
  readonly count: number;
}

/** How the policy behaves over many runs of the scenario. */
export interface OperatingCharacteristics {
  readonly runs: number;
  /** Seeds `firstSeed` to `firstSeed + runs - 1`. */
  readonly firstSeed: number;
  /** Promoted, or awaiting a person's approval to promote. */
  readonly promoted: Share;
  readonly aborted: Share;
  /** Paused for a person (the maximum duration passed without a conclusion). */
  readonly paused: Share;
  /** Still running when the scenario's hours ran out. */
  readonly undecided: Share;
  /** Runs that reached a decision (promoted, aborted or paused). */
  readonly decided: number;
  /** Median predictions (both variants) in the test when it decided, over decided runs; null when none decided. */
  readonly medianInvocations: number | null;
  /** Median hours until the decision, over decided runs; null when none decided. */
  readonly medianHours: number | null;
}

/** What `simulate --json` prints. */
export interface SimulateReport {
  readonly scenario: Scenario;
  readonly seed: number;
  /** The first run, tick by tick (`atMs` from the rollout's start). */
  readonly trajectory: readonly TrajectoryPoint[];
  readonly characteristics: OperatingCharacteristics;
}

/** What `--world <file>` may set: the simulator's world beyond rates, traffic and delays. */
const worldSchema = z.strictObject({
  propensityShape: z.optional(z.number().check(z.positive())),
  hoursBetweenRequests: z.optional(z.number().check(z.positive())),
  candidateOutcomeDelayMinutes: z.optional(z.number().check(z.gte(0))),
  missingOutcomes: z.optional(z.strictObject({ variant: z.enum(['baseline', 'candidate']), fromHour: z.number().check(z.gte(0)), hours: z.number().check(z.positive()) })),
  candidateUndercount: z.optional(z.number().check(z.gte(0), z.lt(1))),
  novelty: z.optional(z.strictObject({ hours: z.number().check(z.positive()), lift: z.number().check(z.gt(-1)) })),
  seasonality: z.optional(z.strictObject({ trafficAmplitude: z.optional(z.number().check(z.gte(0), z.lte(1))), conversionAmplitude: z.optional(z.number().check(z.gte(0), z.lte(1))) })),
  forcedPerHour: z.optional(z.number().check(z.gte(0))),
  outcomeWindowHours: z.optional(z.number().check(z.positive())),
});

/** The world a `--world` file describes. */
export type WorldFile = z.infer<typeof worldSchema>;

/** Reads and validates the world file; a missing, malformed or invalid file is bad input. */
async function readWorld(file: string | undefined): Promise<WorldFile> {
  if (!file) {
    return {};
  }
  const parsed = z.safeParse(worldSchema, await readJson(file, 'world'));
  if (!parsed.success) {
    throw new CliError(EXIT.USAGE, `world file '${file}' is invalid:\n${parsed.error.issues.map((i) => `  - '${i.path.join('.')}' ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}

/** Longest trajectory shown as text; longer ones show their beginning and end. */
const TRAJECTORY_ROWS = 40;

/** A JSON file's content; an unreadable or malformed file is bad input. */
async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(EXIT.USAGE, `cannot read ${what} file '${file}': ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.USAGE, `${what} file '${file}' is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads and validates the policy file; a missing, malformed or invalid file is bad input. */
async function readPolicy(file: string | undefined): Promise<PolicySpec> {
  if (!file) {
    throw new CliError(EXIT.USAGE, '--policy <file> is required');
  }
  const json = await readJson(file, 'policy');
  try {
    return parsePolicy(json);
  } catch (error) {
    if (error instanceof ModelshipError) {
      throw new CliError(EXIT.USAGE, `policy file '${file}' is invalid:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    throw error;
  }
}

/** Promoted, aborted, paused and undecided shares of the runs, and the medians to a decision. */
export function operatingCharacteristics(results: readonly SimulationResult[], firstSeed: number): OperatingCharacteristics {
  const n = results.length;
  const share = (test: (r: SimulationResult) => boolean): Share => {
    const count = results.filter(test).length;
    return { count, ...wilsonInterval(count, n) };
  };
  const decided = results.filter((r) => r.phase !== 'running');
  return {
    runs: n,
    firstSeed,
    promoted: share((r) => r.phase === 'promoted' || r.phase === 'awaiting-approval'),
    aborted: share((r) => r.phase === 'aborted'),
    paused: share((r) => r.phase === 'paused'),
    undecided: share((r) => r.phase === 'running'),
    decided: decided.length,
    medianInvocations: medianInterval(decided.map((r) => r.samples))?.median ?? null,
    medianHours: medianInterval(decided.map((r) => r.hours))?.median ?? null,
  };
}

/** Elapsed time from the rollout's start as `hours:minutes`, e.g. `36:15`. */
function elapsed(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * The ticks worth reading: every action other than hold, every change of weights, and the last
 * tick; a long list keeps its beginning and end.
 */
function compactTrajectory(trajectory: readonly TrajectoryPoint[]): { rows: TrajectoryPoint[]; omitted: number; hidden: number } {
  const interesting = trajectory.filter((p, i) => i === 0 || i === trajectory.length - 1 || p.action !== 'hold'
    || JSON.stringify(p.weights) !== JSON.stringify(trajectory[i - 1].weights));
  const hidden = trajectory.length - interesting.length;
  if (interesting.length <= TRAJECTORY_ROWS) {
    return { rows: interesting, omitted: 0, hidden };
  }
  const half = TRAJECTORY_ROWS / 2;
  return { rows: [...interesting.slice(0, half), ...interesting.slice(-half)], omitted: interesting.length - TRAJECTORY_ROWS, hidden };
}

function shareText(s: Share): string {
  return `${formatPercent(s.rate)} [${formatPercent(s.low)}, ${formatPercent(s.high)}]`;
}

/**
 * `modelship simulate --policy <file>`: runs the policy on synthetic traffic with known rates
 * (no AWS, so it takes no clients): the first run's trajectory, and the operating characteristics over `--runs` seeds.
 */
export async function simulateCommand(options: SimulateOptions, io: Io): Promise<number> {
  const values = readOptions({
    baselineRate: () => numberOption('baseline-rate', options.baselineRate, { min: 0, max: 1 }, 0.1),
    candidateRate: () => numberOption('candidate-rate', options.candidateRate, { min: 0, max: 1 }, 0.1),
    traffic: () => numberOption('traffic', options.traffic, { min: 0, exclusiveMin: true }, 2000),
    hours: () => numberOption('hours', options.hours, { min: 0, exclusiveMin: true }, 336),
    runs: () => numberOption('runs', options.runs, { min: 1, max: 10_000, integer: true }, 200),
    seed: () => numberOption('seed', options.seed, { integer: true, min: 0, max: 2 ** 32 - 1 }, 1),
    outcomeDelay: () => numberOption('outcome-delay', options.outcomeDelay, { min: 0 }, 0),
    preRollout: () => numberOption('pre-rollout', options.preRollout, { min: 0 }, 0),
    requestsPerUser: () => numberOption('requests-per-user', options.requestsPerUser, { min: 1 }, 1),
  });
  const policy = await readPolicy(options.policy);
  const world = await readWorld(options.world);
  const tickHours = policy.evaluationIntervalMinutes / 60;
  if (values.hours < tickHours) {
    throw new CliError(EXIT.USAGE, `--hours must be at least the policy's evaluation interval (${formatNumber(tickHours)} h), got ${values.hours}`);
  }
  const { propensityShape, hoursBetweenRequests, candidateOutcomeDelayMinutes, ...rest } = world;
  const scenario: Scenario = {
    kind: policy.metric.kind,
    baseline: { conversionRate: values.baselineRate, outcomeDelayMinutes: values.outcomeDelay },
    candidate: { conversionRate: values.candidateRate, outcomeDelayMinutes: candidateOutcomeDelayMinutes ?? values.outcomeDelay },
    trafficPerHour: values.traffic,
    maxHours: values.hours,
    preRolloutHours: values.preRollout,
    users: {
      requestsPerUser: values.requestsPerUser,
      ...(propensityShape !== undefined ? { propensityShape } : {}),
      ...(hoursBetweenRequests !== undefined ? { hoursBetweenRequests } : {}),
    },
    ...rest,
  };

  const results: SimulationResult[] = [];
  for (let i = 0; i < values.runs; i += 1) {
    if (i % 10 === 0) {
      io.progress(`simulating run ${i + 1} of ${values.runs}`);
    }
    results.push(simulate(policy, scenario, values.seed + i));
  }
  const characteristics = operatingCharacteristics(results, values.seed);
  const first = results[0];

  if (options.json) {
    const report: SimulateReport = { scenario, seed: values.seed, trajectory: first.trajectory, characteristics };
    io.out(JSON.stringify(report));
    return 0;
  }

  const order = [policy.baseline, policy.candidate];
  io.out(paint(io, 'bold', `${policy.kind} policy, ${policy.baseline} at ${formatPercent(values.baselineRate, 2)} vs ${policy.candidate} at ${formatPercent(values.candidateRate, 2)}, `
    + `${formatCount(values.traffic)} requests/h, up to ${formatNumber(values.hours)} h`));
  io.out('');
  const { rows, omitted, hidden } = compactTrajectory(first.trajectory);
  io.out(`${paint(io, 'bold', 'First run')} (seed ${values.seed}): ${first.phase} after ${formatNumber(first.hours)} h and ${formatCount(first.samples)} predictions with outcomes in`
    + `${hidden > 0 ? `; ${formatCount(hidden)} uneventful holds not shown` : ''}`);
  const lines = table(['elapsed', 'weights', 'action', 'reason'], rows.map((p) => [elapsed(p.atMs), formatWeights(p.weights, order), p.action, p.reason]), [0]);
  if (omitted > 0) {
    lines.splice(1 + TRAJECTORY_ROWS / 2, 0, `… ${formatCount(omitted)} more ticks …`);
  }
  lines.forEach((l) => io.out(`  ${l}`));
  io.out('');
  io.out(`${paint(io, 'bold', 'Operating characteristics')} over ${formatCount(characteristics.runs)} runs (seeds ${values.seed}-${values.seed + values.runs - 1}; 95% Wilson intervals)`);
  table(['outcome', 'runs', 'share [95% interval]'], [
    ['promoted', formatCount(characteristics.promoted.count), shareText(characteristics.promoted)],
    ['aborted', formatCount(characteristics.aborted.count), shareText(characteristics.aborted)],
    ['paused', formatCount(characteristics.paused.count), shareText(characteristics.paused)],
    ['undecided', formatCount(characteristics.undecided.count), shareText(characteristics.undecided)],
  ], [1]).forEach((l) => io.out(`  ${l}`));
  io.out(characteristics.decided > 0
    ? `  median to a decision: ${formatCount(characteristics.medianInvocations ?? 0)} predictions with outcomes in, ${formatNumber(characteristics.medianHours ?? 0)} h (${formatCount(characteristics.decided)} decided runs)`
    : '  no run reached a decision');
  return 0;
}
