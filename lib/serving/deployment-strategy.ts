import { Duration, Token } from 'aws-cdk-lib';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { formatValue } from '../runtime/errors';

/** How much capacity one step of a deployment moves: instances, or a percentage of them. */
export class TrafficSize {
  /** A number of instances of the variant. */
  public static instances(count: number): TrafficSize {
    return new TrafficSize('INSTANCE_COUNT', count);
  }

  /** A percentage of the variant's instances. */
  public static percent(percent: number): TrafficSize {
    return new TrafficSize('CAPACITY_PERCENT', percent);
  }

  private constructor(
    /** `INSTANCE_COUNT` or `CAPACITY_PERCENT`, as SageMaker names them. */
    public readonly type: 'INSTANCE_COUNT' | 'CAPACITY_PERCENT',
    /** The number of instances, or the percentage. */
    public readonly value: number,
  ) {}

  /** The size as a percentage of `instanceCount` instances. */
  public percentOf(instanceCount: number): number {
    return this.type === 'CAPACITY_PERCENT' ? this.value : (this.value / instanceCount) * 100;
  }

  public toString(): string {
    return this.type === 'CAPACITY_PERCENT' ? `${this.value}%` : `${this.value} instance${this.value === 1 ? '' : 's'}`;
  }

  /** The CloudFormation form. */
  public render(): sagemaker.CfnEndpoint.CapacitySizeProperty {
    return { type: this.type, value: this.value };
  }
}

/** Options every strategy accepts. */
export interface StrategyOptions {
  /**
   * How long the whole update may take before SageMaker rolls it back: 600-28800 seconds, more
   * than the sum of the strategy's waits.
   * @default - SageMaker's default
   */
  readonly maximumExecutionTimeout?: Duration;
}

/** Options of {@link DeploymentStrategy.allAtOnce}. */
export interface AllAtOnceOptions extends StrategyOptions {
  /**
   * How long the alarms are watched after all traffic moved, before the update completes.
   * @default Duration.seconds(0)
   */
  readonly bake?: Duration;
  /**
   * How long the old fleet is kept after the update, for a fast manual rollback.
   * @default Duration.seconds(0)
   */
  readonly terminationWait?: Duration;
}

/** Options of {@link DeploymentStrategy.canary}. */
export interface CanaryOptions extends StrategyOptions {
  /** The canary: at most half the variant's instances. */
  readonly size: TrafficSize;
  /** How long the canary takes traffic, alarms watched, before the rest moves. */
  readonly wait: Duration;
  /**
   * How long the alarms are watched after all traffic moved; the old fleet is kept meanwhile.
   * @default Duration.seconds(0)
   */
  readonly bake?: Duration;
}

/** Options of {@link DeploymentStrategy.linear}. */
export interface LinearOptions extends StrategyOptions {
  /** The capacity each step moves: 10-50% of the variant's instances. */
  readonly step: TrafficSize;
  /** How long each step takes traffic, alarms watched, before the next. */
  readonly wait: Duration;
  /**
   * How long the alarms are watched after all traffic moved; the old fleet is kept meanwhile.
   * @default Duration.seconds(0)
   */
  readonly bake?: Duration;
}

/** Options of {@link DeploymentStrategy.rolling}. */
export interface RollingOptions extends StrategyOptions {
  /** How many instances are replaced at a time: 5-50% of the variant's instances. */
  readonly batchSize: TrafficSize;
  /** How long each batch takes traffic, alarms watched, before the next. */
  readonly wait: Duration;
  /**
   * How many instances are rolled back at a time.
   * @default - all of them (100%)
   */
  readonly rollbackBatchSize?: TrafficSize;
}

/** What a strategy is checked against: the endpoint it deploys. */
export interface StrategyTarget {
  /** Instance counts of the provisioned production variants, those known at synthesis (tokens left out). */
  readonly instanceCounts: readonly number[];
  /** Whether any variant is serverless. */
  readonly serverless: boolean;
  /** How many production variants the endpoint has. */
  readonly variantCount: number;
}

const MAX_WAIT = 3600;
const MIN_TIMEOUT = 600;
const MAX_TIMEOUT = 28800;

/**
 * Seconds of a wait for the checks: 0 when unset or a token, so sums of waits are lower bounds
 * and every problem found with them holds whatever the tokens resolve to.
 */
function seconds(d: Duration | undefined): number {
  return d === undefined || d.isUnresolved() ? 0 : d.toSeconds();
}

/** Seconds of a duration for the template; a token passes through. */
function renderSeconds(d: Duration | undefined): number | undefined {
  return d?.toSeconds();
}

function waitProblems(property: string, d: Duration | undefined): string[] {
  const s = seconds(d);
  return s < 0 || s > MAX_WAIT ? [`'${property}' must be between 0 and ${MAX_WAIT} seconds, got ${s} seconds`] : [];
}

/**
 * The problems of a step size on every provisioned fleet: a percentage is checked once, an
 * instance count against each variant's instance count.
 */
function sizeProblems(property: string, size: TrafficSize, target: StrategyTarget,
  rule: string, allowed: (percent: number) => boolean): string[] {
  if (Token.isUnresolved(size.value)) {
    return [];
  }
  const counts = size.type === 'CAPACITY_PERCENT' ? [undefined] : target.instanceCounts;
  const problems = counts.flatMap((count) => {
    const percent = count === undefined ? size.value : size.percentOf(count);
    if (allowed(percent)) {
      return [];
    }
    const of = count === undefined ? '' : ` of ${count} instance${count === 1 ? '' : 's'} (${Math.round(percent)}%)`;
    return [`'${property}' must be ${rule}, got ${size}${of}`];
  });
  return [...new Set(problems)];
}

/**
 * How many steps of `size` it takes to move the smallest fleet known at synthesis; 1 (a lower
 * bound) when the size is a token or counts instances of a fleet whose size is unknown.
 */
function stepsOf(size: TrafficSize, target: StrategyTarget): number {
  const smallest = Math.min(...target.instanceCounts, Infinity);
  const percent = Token.isUnresolved(size.value) ? 0
    : Number.isFinite(smallest) ? size.percentOf(smallest)
      : size.type === 'CAPACITY_PERCENT' ? size.value : 0;
  return percent > 0 ? Math.ceil(100 / percent) : 1;
}

/**
 * How `cdk deploy` moves traffic to a new endpoint config: all at once, canary, linear
 * (blue/green with baking and alarm rollback) or rolling (in place, batch by batch).
 */
export abstract class DeploymentStrategy {
  /** Blue/green: move all traffic at once, then bake. */
  public static allAtOnce(options: AllAtOnceOptions = {}): DeploymentStrategy {
    return new BlueGreen('allAtOnce', 'ALL_AT_ONCE', options, options.bake, options.terminationWait);
  }

  /** Blue/green: move a canary, wait, then the rest, then bake. */
  public static canary(options: CanaryOptions): DeploymentStrategy {
    return new BlueGreen('canary', 'CANARY', options, options.wait, options.bake, options.size);
  }

  /** Blue/green: move equal steps, waiting after each, then bake. */
  public static linear(options: LinearOptions): DeploymentStrategy {
    return new BlueGreen('linear', 'LINEAR', options, options.wait, options.bake, options.step);
  }

  /** In place: replace instances batch by batch; for single-variant, provisioned endpoints. */
  public static rolling(options: RollingOptions): DeploymentStrategy {
    return new Rolling(options);
  }

  /** The strategy's name, as in its factory. */
  public abstract readonly name: 'allAtOnce' | 'canary' | 'linear' | 'rolling';

  /** Every rule the strategy breaks for this endpoint, each naming property, range and value. */
  public abstract validate(target: StrategyTarget): string[];

  /** The `DeploymentConfig` of the endpoint, without its rollback alarms. */
  public abstract render(): sagemaker.CfnEndpoint.DeploymentConfigProperty;

  protected timeoutProblems(options: StrategyOptions, totalWait: number): string[] {
    const timeout = options.maximumExecutionTimeout;
    if (timeout === undefined) {
      return totalWait >= MAX_TIMEOUT
        ? [`the waits of '${this.name}' add up to ${totalWait} seconds, more than SageMaker's maximum execution timeout of ${MAX_TIMEOUT} seconds`]
        : [];
    }
    if (timeout.isUnresolved()) {
      return [];
    }
    const s = timeout.toSeconds();
    return [
      ...(s < MIN_TIMEOUT || s > MAX_TIMEOUT
        ? [`'${this.name}.maximumExecutionTimeout' must be between ${MIN_TIMEOUT} and ${MAX_TIMEOUT} seconds, got ${s} seconds`]
        : []),
      ...(s <= totalWait
        ? [`'${this.name}.maximumExecutionTimeout' must be greater than the sum of the waits (${totalWait} seconds), got ${s} seconds`]
        : []),
    ];
  }
}

class BlueGreen extends DeploymentStrategy {
  constructor(
    public readonly name: 'allAtOnce' | 'canary' | 'linear',
    private readonly type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR',
    private readonly options: StrategyOptions,
    private readonly wait: Duration | undefined,
    private readonly terminationWait: Duration | undefined,
    private readonly size?: TrafficSize,
  ) {
    super();
  }

  public validate(target: StrategyTarget): string[] {
    const waitName = this.type === 'ALL_AT_ONCE' ? 'bake' : 'wait';
    const terminationName = this.type === 'ALL_AT_ONCE' ? 'terminationWait' : 'bake';
    const problems = [
      ...waitProblems(`${this.name}.${waitName}`, this.wait),
      ...waitProblems(`${this.name}.${terminationName}`, this.terminationWait),
      ...this.sizeProblems(target),
    ];
    return [...problems, ...this.timeoutProblems(this.options, this.steps(target) * seconds(this.wait) + seconds(this.terminationWait))];
  }

  public render(): sagemaker.CfnEndpoint.DeploymentConfigProperty {
    return {
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: {
          type: this.type,
          waitIntervalInSeconds: renderSeconds(this.wait) ?? 0,
          canarySize: this.type === 'CANARY' ? this.size?.render() : undefined,
          linearStepSize: this.type === 'LINEAR' ? this.size?.render() : undefined,
        },
        terminationWaitInSeconds: renderSeconds(this.terminationWait),
        maximumExecutionTimeoutInSeconds: renderSeconds(this.options.maximumExecutionTimeout),
      },
    };
  }

  /** How many waits the update goes through. */
  private steps(target: StrategyTarget): number {
    return this.type === 'LINEAR' && this.size ? stepsOf(this.size, target) : 1;
  }

  private sizeProblems(target: StrategyTarget): string[] {
    if (!this.size) {
      return [];
    }
    const property = this.type === 'CANARY' ? 'canary.size' : 'linear.step';
    if (Token.isUnresolved(this.size.value)) {
      return [];
    }
    if (!(this.size.value > 0) || (this.size.type === 'INSTANCE_COUNT' && !Number.isInteger(this.size.value))) {
      return [`'${property}' must be a positive ${this.size.type === 'INSTANCE_COUNT' ? 'whole number of instances' : 'percentage'}, got ${this.size}`];
    }
    return this.type === 'CANARY'
      ? sizeProblems(property, this.size, target, 'at most 50% of the variant\'s instances', (p) => p > 0 && p <= 50)
      : sizeProblems(property, this.size, target, 'between 10% and 50% of the variant\'s instances', (p) => p >= 10 && p <= 50);
  }
}

class Rolling extends DeploymentStrategy {
  public readonly name = 'rolling' as const;

  constructor(private readonly options: RollingOptions) {
    super();
  }

  public validate(target: StrategyTarget): string[] {
    const { batchSize, rollbackBatchSize } = this.options;
    return [
      ...(target.serverless ? ["'rolling' is not available for serverless variants: use a blue/green strategy"] : []),
      ...(target.variantCount > 1
        ? [`'rolling' is available only for endpoints with one production variant, got ${target.variantCount}: use a blue/green strategy`]
        : []),
      ...sizeProblems('rolling.batchSize', batchSize, target, "between 5% and 50% of the variant's instances", (p) => p >= 5 && p <= 50),
      ...(rollbackBatchSize && !Token.isUnresolved(rollbackBatchSize.value) && !(rollbackBatchSize.value > 0)
        ? [`'rolling.rollbackBatchSize' must be positive, got ${formatValue(rollbackBatchSize.toString())}`]
        : []),
      ...waitProblems('rolling.wait', this.options.wait),
      ...this.timeoutProblems(this.options, stepsOf(batchSize, target) * seconds(this.options.wait)),
    ];
  }

  public render(): sagemaker.CfnEndpoint.DeploymentConfigProperty {
    return {
      rollingUpdatePolicy: {
        maximumBatchSize: this.options.batchSize.render(),
        waitIntervalInSeconds: this.options.wait.toSeconds(),
        rollbackMaximumBatchSize: this.options.rollbackBatchSize?.render(),
        maximumExecutionTimeoutInSeconds: renderSeconds(this.options.maximumExecutionTimeout),
      },
    };
  }
}
