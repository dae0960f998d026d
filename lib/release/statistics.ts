/**
 * The statistics a rollout is decided on: a sequential test that stays valid however often it
 * is looked at (a mixture sequential probability ratio test), the fixed-horizon sample size it is
 * compared with, the normal distribution, binomial tails, and Thompson sampling. Pure: time and
 * randomness are passed in.
 */
import type { CohortCounts, PrimaryMetricSpec } from './rollout-types';
import { sampleNormal, UniformSource } from './random';

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * The standard normal CDF Φ(x), to about 1e-14 absolute (Hart's 1968 rational approximation,
 * as given by West, "Better approximations to cumulative normal functions", 2005).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) {
    return NaN;
  }
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-z * z / 2);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = e * num / den;
    } else {
      const cf = z + 1 / (z + 2 / (z + 3 / (z + 4 / (z + 0.65))));
      tail = e / cf / SQRT_2PI;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/** The standard normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-x * x / 2) / SQRT_2PI;
}

const ACKLAM_A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
const ACKLAM_B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
const ACKLAM_C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
const ACKLAM_D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

/** Evaluates a polynomial with coefficients from the highest power down (Horner). */
function horner(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((acc, c) => acc * x + c, 0);
}

/**
 * The standard normal quantile Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation
 * (1.15e-9 relative) refined by one Halley step on `normalCdf`, to about 1e-13.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  }
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = horner(ACKLAM_C, q) / (horner(ACKLAM_D, q) * q + 1);
  } else if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -horner(ACKLAM_C, q) / (horner(ACKLAM_D, q) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = horner(ACKLAM_A, r) * q / (horner(ACKLAM_B, r) * r + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (Lanczos, g = 7), to about 1e-13 relative. */
export function logGamma(x: number): number {
  if (x < 0.5) {
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i += 1) {
    sum += LANCZOS[i] / (y + i);
  }
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  d = Math.abs(d) < tiny ? tiny : d;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m += 1) {
    const m2 = 2 * m;
    let aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = 1 + aa / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = 1 + aa / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) {
      break;
    }
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1 and a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) {
    return 0;
  }
  if (x >= 1) {
    return 1;
  }
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) {
    return Math.exp(logFront) * betaContinuedFraction(x, a, b) / a;
  }
  return 1 - Math.exp(logFront) * betaContinuedFraction(1 - x, b, a) / b;
}

/** P(X ≥ k) for X ~ Binomial(n, p), in closed form: I_p(k, n − k + 1). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) {
    return 1;
  }
  if (k > n) {
    return 0;
  }
  return regularizedIncompleteBeta(p, k, n - k + 1);
}

/**
 * The two-sided mixture likelihood ratio of the mSPRT (Johari, Pekelis, Walsh, "Always valid
 * inference", 2017) for an estimate `thetaHat` of a difference with variance `variance`, mixing
 * over θ ~ N(0, tauSquared): Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²))).
 */
export function mixtureLikelihoodRatio(thetaHat: number, variance: number, tauSquared: number): number {
  const total = variance + tauSquared;
  return Math.sqrt(variance / total) * Math.exp(tauSquared * thetaHat * thetaHat / (2 * variance * total));
}

/**
 * The one-sided mixture likelihood ratio for "θ > 0", mixing over the half-normal θ ~ |N(0, τ²)|:
 * Λ⁺ = 2 Φ(θ̂τ / √(V(V+τ²))) · Λ. Under θ ≤ 0 it is a supermartingale, so by Ville's inequality
 * P(ever Λ⁺ ≥ 1/α) ≤ α: stopping when it crosses 1/α keeps the one-sided error at α however
 * often it is checked. For "θ < 0" pass −θ̂.
 */
export function oneSidedMixtureLikelihoodRatio(thetaHat: number, variance: number, tauSquared: number): number {
  const shift = thetaHat * Math.sqrt(tauSquared) / Math.sqrt(variance * (variance + tauSquared));
  return 2 * normalCdf(shift) * mixtureLikelihoodRatio(thetaHat, variance, tauSquared);
}

/** A variant's estimated mean outcome per prediction and that outcome's variance. */
export interface ArmEstimate {
  /** Predictions. */
  readonly n: number;
  /** The outcomes' total: conversions or the values' sum. */
  readonly total: number;
  /** Outcome per prediction. */
  readonly mean: number;
  /**
   * The variance of one prediction's outcome, such that the mean's variance is variance / n. From
   * bucketed counts, the delta method on the buckets' sums (repeated requests of one unit are
   * one cluster); from one bucket, the variance of independent predictions.
   */
  readonly variance: number;
  /** Unit buckets with at least one prediction (1 for metrics without buckets). */
  readonly buckets: number;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) {
    total += v;
  }
  return total;
}

/**
 * Estimates a variant's mean outcome per prediction and its variance. With unit buckets, the
 * ratio estimator's delta-method variance: n · Var(mean) ≈ B/(B−1) · Σ_b (x_b − mean · n_b)² / n
 * over the B buckets that have predictions. With one bucket, predictions are taken as
 * independent: p(1−p) for a rate, the sample variance from the sum of squares for a mean.
 */
export function estimateArm(kind: PrimaryMetricSpec['kind'], counts: CohortCounts): ArmEstimate {
  const n = sum(counts.exposures);
  const total = sum(counts.outcomes);
  if (n <= 0) {
    return { n: 0, total, mean: 0, variance: 0, buckets: 0 };
  }
  const mean = kind === 'rate' ? Math.min(1, total / n) : total / n;
  if (counts.exposures.length > 1) {
    let squares = 0;
    let buckets = 0;
    counts.exposures.forEach((exposures, b) => {
      if (exposures > 0) {
        buckets += 1;
        const deviation = (counts.outcomes[b] ?? 0) - mean * exposures;
        squares += deviation * deviation;
      }
    });
    const variance = buckets > 1 ? (buckets / (buckets - 1)) * squares / n : 0;
    return { n, total, mean, variance, buckets };
  }
  if (kind === 'rate') {
    return { n, total, mean, variance: mean * (1 - mean), buckets: 1 };
  }
  const sumOfSquares = sum(counts.outcomeSquares ?? []);
  const variance = n > 1 ? Math.max(0, (sumOfSquares - n * mean * mean) / (n - 1)) : 0;
  return { n, total, mean, variance, buckets: 1 };
}

/**
 * The variance of one prediction's outcome pooled over the variants, as under "no difference":
 * the variants' variances weighted by their predictions, and for a rate at least the pooled
 * rate's p̄(1−p̄). It cannot collapse when one variant has few or no conversions, as each
 * variant's own p̂(1−p̂) would.
 */
export function pooledVariance(kind: PrimaryMetricSpec['kind'], arms: readonly ArmEstimate[]): number {
  const n = sum(arms.map((a) => a.n));
  if (n <= 0) {
    return 0;
  }
  const pooled = sum(arms.map((a) => a.n * a.variance)) / n;
  if (kind !== 'rate') {
    return pooled;
  }
  const rate = Math.min(1, sum(arms.map((a) => a.total)) / n);
  return Math.max(pooled, BERNOULLI_FLOOR * rate * (1 - rate));
}

/**
 * A rate's pooled variance is at least this share of the pooled rate's p̄(1−p̄): repeated requests
 * of a unit can only raise it in practice, and the floor keeps it from collapsing when few
 * buckets have conversions; below 1, so the floor does not bias the clustered estimate's noise
 * upwards when predictions are independent.
 */
export const BERNOULLI_FLOOR = 0.5;

/** Each variant needs this many predictions before the test can conclude anything. */
export const MIN_INVOCATIONS_PER_ARM = 200;

/** A rate's test needs this many conversions expected in the smaller variant at the pooled rate. */
export const MIN_EXPECTED_CONVERSIONS = 10;

/**
 * The mixing scale: τ = TAU_PER_MDE × (minimum detectable effect × the baseline's mean). Chosen by
 * simulation (bench/release) to minimise the samples needed at the minimum detectable effect while
 * keeping the false-promotion rate under alpha; 1 is close to the optimum, which is flat.
 */
export const TAU_PER_MDE = 1;

/** What the sequential test concluded. */
export type Verdict = 'better' | 'worse' | 'inconclusive';

/** The sequential test's result. */
export interface SequentialTestResult {
  /** `better`/`worse`: significant at alpha in that direction; otherwise inconclusive. */
  readonly verdict: Verdict;
  /** The evidence leans towards a worse candidate (Λ⁻ ≥ 1), without being significant. */
  readonly leansWorse: boolean;
  /** Relative lift, candidate / baseline − 1, when the baseline's mean is not 0. */
  readonly lift?: number;
  /** Λ in the direction the estimate points (Λ⁺ when the candidate looks better, Λ⁻ otherwise). */
  readonly statistic?: number;
  /** 1 / alpha. */
  readonly threshold: number;
  /** Always-valid p-value for "no difference" in that direction: min(1, 1/Λ). */
  readonly pValue?: number;
  /** Why the test could not run, when it could not. */
  readonly notReady?: string;
}

/** Why the test cannot run on these counts yet, or undefined when it can. */
function notReady(kind: PrimaryMetricSpec['kind'], b: ArmEstimate, c: ArmEstimate, bucketCount: number): string | undefined {
  if (b.n < MIN_INVOCATIONS_PER_ARM || c.n < MIN_INVOCATIONS_PER_ARM) {
    return `each variant needs ${MIN_INVOCATIONS_PER_ARM} predictions whose outcomes are in`;
  }
  const minBuckets = Math.max(2, Math.ceil(bucketCount / 2));
  if (bucketCount > 1 && (b.buckets < minBuckets || c.buckets < minBuckets)) {
    return `each variant needs predictions in ${minBuckets} of the ${bucketCount} unit buckets`;
  }
  if (kind === 'rate') {
    const rate = (b.total + c.total) / (b.n + c.n);
    if (Math.min(b.n, c.n) * rate < MIN_EXPECTED_CONVERSIONS) {
      return `the smaller variant needs ${MIN_EXPECTED_CONVERSIONS} conversions expected at the pooled rate`;
    }
  }
  if (b.mean === 0) {
    return 'no outcome has been recorded yet';
  }
  return undefined;
}

/**
 * The one-sided mSPRT on the difference of the mean outcome per prediction (normal
 * approximation, variance pooled under the null, see `pooledVariance`), once in each direction,
 * at level alpha each: `better` when Λ⁺ ≥ 1/alpha (so a candidate that is no better is promoted
 * with probability at most alpha, however often this is checked), `worse` when Λ⁻ ≥ 1/alpha.
 * Orientation follows `metric.betterWhen`.
 *
 * With a `margin` m > 0 it is a non-inferiority test: `better` then means "no worse than the
 * baseline by more than m" (H0: candidate ≤ (1 − m) × baseline when higher is better,
 * ≥ (1 + m) × baseline when lower is better), at alpha however often it is checked.
 */
export function sequentialTest(metric: PrimaryMetricSpec, alpha: number, baseline: CohortCounts, candidate: CohortCounts, margin = 0): SequentialTestResult {
  const threshold = 1 / alpha;
  const b = estimateArm(metric.kind, baseline);
  const c = estimateArm(metric.kind, candidate);
  const lift = b.mean !== 0 ? c.mean / b.mean - 1 : undefined;
  const why = notReady(metric.kind, b, c, Math.max(baseline.exposures.length, candidate.exposures.length));
  const sigma2 = pooledVariance(metric.kind, [b, c]);
  if (why !== undefined || !(sigma2 > 0)) {
    return { verdict: 'inconclusive', leansWorse: false, lift, threshold, notReady: why ?? 'the outcomes do not vary yet' };
  }
  const direction = metric.betterWhen === 'higher' ? 1 : -1;
  const factor = 1 - direction * margin;
  const thetaHat = direction * (c.mean - factor * b.mean);
  const variance = sigma2 * (1 / c.n + factor * factor / b.n);
  const tau = TAU_PER_MDE * metric.minimumDetectableEffect * Math.abs(b.mean);
  const tauSquared = tau * tau;
  const better = oneSidedMixtureLikelihoodRatio(thetaHat, variance, tauSquared);
  const worse = oneSidedMixtureLikelihoodRatio(-thetaHat, variance, tauSquared);
  const statistic = thetaHat >= 0 ? better : worse;
  const verdict: Verdict = better >= threshold ? 'better' : worse >= threshold ? 'worse' : 'inconclusive';
  return { verdict, leansWorse: worse >= 1, lift, statistic, threshold, pValue: Math.min(1, 1 / statistic) };
}

/**
 * The sample-ratio check's level: a mismatch this unlikely under the expected split pauses the
 * rollout (at most 1% of healthy rollouts are paused by it, however often it is checked).
 */
export const SAMPLE_RATIO_ALPHA = 0.01;

/**
 * The sample-ratio check's mixing scale, relative to r(1−r) for an expected share r: 0.02 puts the
 * mixture's weight on mismatches of about 2% of one variant's predictions (a logging or routing
 * fault), and the check stays valid for any size.
 */
export const SAMPLE_RATIO_TAU = 0.02;

/** The sample-ratio check needs this many predictions in the window. */
export const MIN_SAMPLE_RATIO_PREDICTIONS = 1000;

/**
 * Odds for a mismatch (the check's statistic) at which a promotion waits: a fault too small to
 * pause for yet must not let a biased comparison promote. Under the expected split the statistic
 * is this high a few percent of the time, which delays a promotion by a tick or so (bench/release
 * measures both sides: a 3% under-count and the samples to a decision).
 */
export const SAMPLE_RATIO_LEAN = 2;

/** The sample-ratio check's result. */
export interface SampleRatioResult {
  /** The candidate's share of the predictions. */
  readonly observed: number;
  /** The share the candidate's weight expects. */
  readonly expected: number;
  /** The two-sided mixture likelihood ratio for "the share is not the expected one". */
  readonly statistic: number;
  /** The statistic crossed 1 / `SAMPLE_RATIO_ALPHA`. */
  readonly mismatch: boolean;
  /** The evidence leans towards a mismatch (statistic ≥ `SAMPLE_RATIO_LEAN`): a promotion waits until it clears. */
  readonly leansMismatched: boolean;
}

/**
 * A sequential sample-ratio-mismatch check: is the candidate's share of predictions the one its
 * weight expects? A two-sided mSPRT on the share, its variance from the spread between unit
 * buckets (a unit's repeated requests are one cluster; at least the binomial variance of
 * independent predictions), at `SAMPLE_RATIO_ALPHA` however often it is checked. Undefined
 * before `MIN_SAMPLE_RATIO_PREDICTIONS` or when the expected share is 0 or 1.
 */
export function sampleRatioTest(baseline: CohortCounts, candidate: CohortCounts, expectedShare: number): SampleRatioResult | undefined {
  const buckets = baseline.exposures.length === candidate.exposures.length ? baseline.exposures.length : 1;
  const inBucket = (counts: CohortCounts, b: number) => (buckets === 1 ? sum(counts.exposures) : counts.exposures[b]);
  const c = Array.from({ length: buckets }, (_, b) => inBucket(candidate, b));
  const t = c.map((x, b) => x + inBucket(baseline, b));
  const n = sum(t);
  if (n < MIN_SAMPLE_RATIO_PREDICTIONS || !(expectedShare > 0 && expectedShare < 1)) {
    return undefined;
  }
  const observed = sum(c) / n;
  // The delta-method variance of the share over the buckets, centred on the observed share (so a
  // large mismatch does not inflate its own variance), at least the binomial's: units stick to
  // their variant, so clustering can only raise it, and a noisy estimate below it would pause
  // healthy rollouts more often than the check's level.
  let squares = 0;
  let used = 0;
  for (let b = 0; b < buckets; b += 1) {
    if (t[b] > 0) {
      used += 1;
      squares += (c[b] - observed * t[b]) ** 2;
    }
  }
  const binomial = expectedShare * (1 - expectedShare) / n;
  const variance = used > 1 ? Math.max((used / (used - 1)) * squares / (n * n), binomial) : binomial;
  const tau = SAMPLE_RATIO_TAU * expectedShare * (1 - expectedShare);
  const statistic = mixtureLikelihoodRatio(observed - expectedShare, variance, tau * tau);
  return { observed, expected: expectedShare, statistic, mismatch: statistic >= 1 / SAMPLE_RATIO_ALPHA, leansMismatched: statistic >= SAMPLE_RATIO_LEAN };
}

/** Inputs of the fixed-horizon two-proportion z-test's sample size. */
export interface FixedHorizonOptions {
  /** The baseline's conversion rate (0-1). */
  readonly baselineRate: number;
  /** The relative change to detect, e.g. 0.1 for 10%. */
  readonly minimumDetectableEffect: number;
  readonly alpha: number;
  readonly power: number;
  /** `one`: H1 is "candidate better" at alpha; `two`: either direction, alpha/2 per side. */
  readonly sided: 'one' | 'two';
}

/**
 * Invocations per variant that a fixed-horizon two-proportion z-test (equal split, looked at once)
 * needs: n = (z₁₋ₐ √(2p̄(1−p̄)) + z_power √(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)², rounded up, where
 * z₁₋ₐ uses alpha (one-sided) or alpha/2 (two-sided).
 */
export function fixedHorizonSampleSize(options: FixedHorizonOptions): number {
  const p1 = options.baselineRate;
  const p2 = p1 * (1 + options.minimumDetectableEffect);
  const pBar = (p1 + p2) / 2;
  const zAlpha = normalQuantile(1 - (options.sided === 'two' ? options.alpha / 2 : options.alpha));
  const zPower = normalQuantile(options.power);
  const root = zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil(root * root / ((p2 - p1) * (p2 - p1)));
}

/** Thompson draws per decision. */
export const THOMPSON_DRAWS = 1000;

/**
 * Each variant's posterior probability of being best, by Monte Carlo over `draws` joint draws
 * from the normal approximation N(mean, σ²/n) of each variant's mean, σ² pooled over the
 * variants as in the test (`pooledVariance`, so few conversions never look certain; flat
 * prior). Variants with fewer than 2 predictions are drawn from a wide prior around the others,
 * so the split starts near even.
 */
export function probabilityBest(
  metric: PrimaryMetricSpec,
  counts: Readonly<Record<string, CohortCounts>>,
  random: UniformSource,
  draws = THOMPSON_DRAWS,
): Record<string, number> {
  const names = Object.keys(counts);
  const wins = new Array<number>(names.length).fill(0);
  const estimates = names.map((name) => estimateArm(metric.kind, counts[name]));
  const sign = metric.betterWhen === 'higher' ? 1 : -1;
  const known = estimates.filter((e) => e.n >= 2);
  const spread = known.length > 0 ? Math.max(...known.map((e) => Math.abs(e.mean))) || 1 : 1;
  const sigma2 = pooledVariance(metric.kind, known);
  for (let d = 0; d < draws; d += 1) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < names.length; i += 1) {
      const e = estimates[i];
      const value = sign * (e.n >= 2 ? e.mean + Math.sqrt(sigma2 / e.n) * sampleNormal(random) : spread * sampleNormal(random));
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    wins[best] += 1;
  }
  return Object.fromEntries(names.map((name, i) => [name, wins[i] / draws]));
}

/** A proportion's estimate and confidence interval. */
export interface ProportionInterval {
  /** count / n (0 when n is 0). */
  readonly rate: number;
  readonly low: number;
  readonly high: number;
}

/**
 * The Wilson score interval of a proportion `count / n` at `confidence` (two-sided), which stays
 * inside [0, 1] and keeps close to its nominal coverage for small n and rates near 0 or 1, where
 * the normal (Wald) interval does not. With n = 0 nothing is known: [0, 1].
 */
export function wilsonInterval(count: number, n: number, confidence = 0.95): ProportionInterval {
  if (n <= 0) {
    return { rate: 0, low: 0, high: 1 };
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = count / n;
  const z2n = z * z / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  // Clamped so rounding never leaves the estimate outside its own interval (at 0 or n).
  return { rate: p, low: Math.max(0, Math.min(p, centre - half)), high: Math.min(1, Math.max(p, centre + half)) };
}

/** A median and its distribution-free 95% interval (order statistics). */
export interface MedianInterval {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

/** The median of the values with a distribution-free 95% interval from order statistics; undefined for none. */
export function medianInterval(values: readonly number[]): MedianInterval | undefined {
  const n = values.length;
  if (n === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const half = (1.96 * Math.sqrt(n)) / 2;
  const at = (rank: number) => sorted[Math.min(n - 1, Math.max(0, rank))];
  return {
    median: n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    low: at(Math.floor(n / 2 - half) - 1),
    high: at(Math.ceil(n / 2 + half) - 1),
  };
}
