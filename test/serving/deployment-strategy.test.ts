import { CfnParameter, Duration } from 'aws-cdk-lib';
import { DeploymentStrategy, StrategyTarget, TrafficSize } from '../../lib/serving/deployment-strategy';
import { testStack } from '../helpers';

const fleet = (count: number, variantCount = 1): StrategyTarget => ({ instanceCounts: Array(variantCount).fill(count), serverless: false, variantCount });
const minutes = Duration.minutes;

describe('DeploymentStrategy renders the exact DeploymentConfig', () => {
  test('allAtOnce bakes, then keeps the old fleet for the termination wait', () => {
    expect(DeploymentStrategy.allAtOnce({ bake: minutes(10), terminationWait: minutes(5), maximumExecutionTimeout: minutes(30) }).render()).toEqual({
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 600, canarySize: undefined, linearStepSize: undefined },
        terminationWaitInSeconds: 300,
        maximumExecutionTimeoutInSeconds: 1800,
      },
    });
  });

  test('allAtOnce defaults to no bake and SageMaker\'s timeout', () => {
    expect(DeploymentStrategy.allAtOnce().render()).toEqual({
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0, canarySize: undefined, linearStepSize: undefined },
        terminationWaitInSeconds: undefined,
        maximumExecutionTimeoutInSeconds: undefined,
      },
    });
  });

  test('canary moves the canary, waits, moves the rest, then bakes', () => {
    expect(DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: minutes(15), bake: minutes(5) }).render()).toEqual({
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: {
          type: 'CANARY', waitIntervalInSeconds: 900, canarySize: { type: 'INSTANCE_COUNT', value: 1 }, linearStepSize: undefined,
        },
        terminationWaitInSeconds: 300,
        maximumExecutionTimeoutInSeconds: undefined,
      },
    });
  });

  test('linear moves equal steps with a wait after each', () => {
    expect(DeploymentStrategy.linear({ step: TrafficSize.percent(20), wait: minutes(10), maximumExecutionTimeout: Duration.hours(2) }).render()).toEqual({
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: {
          type: 'LINEAR', waitIntervalInSeconds: 600, canarySize: undefined, linearStepSize: { type: 'CAPACITY_PERCENT', value: 20 },
        },
        terminationWaitInSeconds: undefined,
        maximumExecutionTimeoutInSeconds: 7200,
      },
    });
  });

  test('rolling replaces batches in place, rolling back in batches too', () => {
    expect(DeploymentStrategy.rolling({
      batchSize: TrafficSize.percent(25), wait: minutes(5), rollbackBatchSize: TrafficSize.percent(50), maximumExecutionTimeout: Duration.hours(1),
    }).render()).toEqual({
      rollingUpdatePolicy: {
        maximumBatchSize: { type: 'CAPACITY_PERCENT', value: 25 },
        waitIntervalInSeconds: 300,
        rollbackMaximumBatchSize: { type: 'CAPACITY_PERCENT', value: 50 },
        maximumExecutionTimeoutInSeconds: 3600,
      },
    });
  });
});

describe('DeploymentStrategy validation', () => {
  test.each<[string, DeploymentStrategy, StrategyTarget, string[]]>([
    ['a canary over half the fleet', DeploymentStrategy.canary({ size: TrafficSize.percent(60), wait: minutes(5) }), fleet(4),
      ["'canary.size' must be at most 50% of the variant's instances, got 60%"]],
    ['a canary of 3 of 4 instances', DeploymentStrategy.canary({ size: TrafficSize.instances(3), wait: minutes(5) }), fleet(4),
      ["'canary.size' must be at most 50% of the variant's instances, got 3 instances of 4 instances (75%)"]],
    ['a one-instance canary on a one-instance fleet', DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: minutes(5) }), fleet(1),
      ["'canary.size' must be at most 50% of the variant's instances, got 1 instance of 1 instance (100%)"]],
    ['an empty canary', DeploymentStrategy.canary({ size: TrafficSize.percent(0), wait: minutes(5) }), fleet(4),
      ["'canary.size' must be a positive percentage, got 0%"]],
    ['a linear step under 10%', DeploymentStrategy.linear({ step: TrafficSize.percent(5), wait: minutes(1) }), fleet(4),
      ["'linear.step' must be between 10% and 50% of the variant's instances, got 5%"]],
    ['a linear step over 50%', DeploymentStrategy.linear({ step: TrafficSize.instances(3), wait: minutes(1) }), fleet(4),
      ["'linear.step' must be between 10% and 50% of the variant's instances, got 3 instances of 4 instances (75%)"]],
    ['a wait over an hour', DeploymentStrategy.canary({ size: TrafficSize.percent(10), wait: minutes(61) }), fleet(10),
      ["'canary.wait' must be between 0 and 3600 seconds, got 3660 seconds"]],
    ['a bake over an hour', DeploymentStrategy.allAtOnce({ bake: minutes(90) }), fleet(1),
      ["'allAtOnce.bake' must be between 0 and 3600 seconds, got 5400 seconds"]],
    ['a termination wait over an hour', DeploymentStrategy.allAtOnce({ terminationWait: Duration.hours(2) }), fleet(1),
      ["'allAtOnce.terminationWait' must be between 0 and 3600 seconds, got 7200 seconds"]],
    ['a timeout under 600 s', DeploymentStrategy.allAtOnce({ maximumExecutionTimeout: minutes(5) }), fleet(1),
      ["'allAtOnce.maximumExecutionTimeout' must be between 600 and 28800 seconds, got 300 seconds"]],
    ['a timeout over 8 hours', DeploymentStrategy.allAtOnce({ maximumExecutionTimeout: Duration.hours(9) }), fleet(1),
      ["'allAtOnce.maximumExecutionTimeout' must be between 600 and 28800 seconds, got 32400 seconds"]],
    ['a timeout shorter than the linear waits', DeploymentStrategy.linear({ step: TrafficSize.percent(10), wait: minutes(10), maximumExecutionTimeout: Duration.hours(1) }), fleet(10),
      ["'linear.maximumExecutionTimeout' must be greater than the sum of the waits (6000 seconds), got 3600 seconds"]],
    ['a timeout equal to the canary waits', DeploymentStrategy.canary({ size: TrafficSize.percent(10), wait: minutes(20), bake: minutes(20), maximumExecutionTimeout: minutes(40) }), fleet(10),
      ["'canary.maximumExecutionTimeout' must be greater than the sum of the waits (2400 seconds), got 2400 seconds"]],
    ['rolling batches under 5%', DeploymentStrategy.rolling({ batchSize: TrafficSize.percent(2), wait: minutes(1) }), fleet(10),
      ["'rolling.batchSize' must be between 5% and 50% of the variant's instances, got 2%"]],
    ['rolling batches over 50%', DeploymentStrategy.rolling({ batchSize: TrafficSize.instances(3), wait: minutes(1) }), fleet(4),
      ["'rolling.batchSize' must be between 5% and 50% of the variant's instances, got 3 instances of 4 instances (75%)"]],
    ['rolling on a serverless endpoint', DeploymentStrategy.rolling({ batchSize: TrafficSize.percent(50), wait: minutes(1) }),
      { instanceCounts: [], serverless: true, variantCount: 1 },
      ["'rolling' is not available for serverless variants: use a blue/green strategy"]],
    ['rolling on an A/B endpoint', DeploymentStrategy.rolling({ batchSize: TrafficSize.percent(50), wait: minutes(1) }), fleet(2, 2),
      ["'rolling' is available only for endpoints with one production variant, got 2: use a blue/green strategy"]],
    ['rolling waits past SageMaker\'s maximum', DeploymentStrategy.rolling({ batchSize: TrafficSize.percent(5), wait: minutes(30) }), fleet(20),
      ["the waits of 'rolling' add up to 36000 seconds, more than SageMaker's maximum execution timeout of 28800 seconds"]],
  ])('rejects %s', (_, strategy, target, problems) => {
    expect(strategy.validate(target)).toEqual(problems);
  });

  test.each<[string, DeploymentStrategy, StrategyTarget]>([
    ['a 50% canary', DeploymentStrategy.canary({ size: TrafficSize.percent(50), wait: minutes(10) }), fleet(2)],
    ['a one-instance canary on two instances', DeploymentStrategy.canary({ size: TrafficSize.instances(1), wait: minutes(10) }), fleet(2)],
    ['10% and 50% linear steps', DeploymentStrategy.linear({ step: TrafficSize.percent(10), wait: Duration.seconds(0) }), fleet(10)],
    ['a 50% linear step with the longest wait', DeploymentStrategy.linear({ step: TrafficSize.percent(50), wait: Duration.hours(1), maximumExecutionTimeout: Duration.hours(3) }), fleet(2)],
    ['rolling 5% batches', DeploymentStrategy.rolling({ batchSize: TrafficSize.percent(5), wait: minutes(1) }), fleet(20)],
    ['all at once with the widest timeout', DeploymentStrategy.allAtOnce({ bake: Duration.hours(1), maximumExecutionTimeout: Duration.hours(8) }), fleet(1)],
  ])('accepts %s', (_, strategy, target) => {
    expect(strategy.validate(target)).toEqual([]);
  });
});

describe('DeploymentStrategy with values known only at deploy time', () => {
  const stack = testStack();
  const parameter = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;

  test('renders token sizes, waits and timeouts as they are, and checks none of them', () => {
    const strategy = DeploymentStrategy.linear({
      step: TrafficSize.percent(parameter('Step')),
      wait: Duration.seconds(parameter('Wait')),
      bake: Duration.seconds(parameter('Bake')),
      maximumExecutionTimeout: Duration.seconds(parameter('Timeout')),
    });
    expect(stack.resolve(strategy.render())).toEqual({
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: { type: 'LINEAR', waitIntervalInSeconds: { Ref: 'Wait' }, linearStepSize: { type: 'CAPACITY_PERCENT', value: { Ref: 'Step' } } },
        terminationWaitInSeconds: { Ref: 'Bake' },
        maximumExecutionTimeoutInSeconds: { Ref: 'Timeout' },
      },
    });
    expect(strategy.validate(fleet(4))).toEqual([]);
  });

  test('renders a token rolling batch and still checks the known wait and timeout', () => {
    const strategy = DeploymentStrategy.rolling({
      batchSize: TrafficSize.instances(parameter('Batch')),
      wait: minutes(61),
      rollbackBatchSize: TrafficSize.instances(parameter('RollbackBatch')),
      maximumExecutionTimeout: minutes(5),
    });
    expect(stack.resolve(strategy.render())).toMatchObject({
      rollingUpdatePolicy: { maximumBatchSize: { type: 'INSTANCE_COUNT', value: { Ref: 'Batch' } }, rollbackMaximumBatchSize: { value: { Ref: 'RollbackBatch' } } },
    });
    expect(strategy.validate(fleet(4))).toEqual([
      "'rolling.wait' must be between 0 and 3600 seconds, got 3660 seconds",
      "'rolling.maximumExecutionTimeout' must be between 600 and 28800 seconds, got 300 seconds",
      "'rolling.maximumExecutionTimeout' must be greater than the sum of the waits (3660 seconds), got 300 seconds",
    ]);
  });

  test('checks an instance-count canary against the fleets whose size is known', () => {
    const canary = DeploymentStrategy.canary({ size: TrafficSize.instances(2), wait: minutes(5) });
    expect(canary.validate({ instanceCounts: [], serverless: false, variantCount: 1 })).toEqual([]);
    expect(canary.validate({ instanceCounts: [2], serverless: false, variantCount: 2 })).toEqual([
      "'canary.size' must be at most 50% of the variant's instances, got 2 instances of 2 instances (100%)",
    ]);
  });
});
