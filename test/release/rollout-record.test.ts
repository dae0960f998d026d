import fc from 'fast-check';
import { countsByPeriod, countsFromResults, gatewayMetrics, MAX_ATTRIBUTION_SECONDS, metricQueries, windowPeriodSeconds } from '../../lib/release/metric-queries';
import {
  afterHookOf, AuditAction, AuditEntry, auditFromItem, auditSortKey, auditToItem, deliveryId, isAnnounced, manualFromItem, manualToItem, outboxFromItem, outboxSortKey,
  outboxToItem, RolloutRecord, rolloutFromItem, rolloutToItem, shortVersion, startRollout,
} from '../../lib/release/rollout-record';
import type { PolicySpec } from '../../lib/release/rollout-types';

const policy: PolicySpec = {
  kind: 'experiment', baseline: 'baseline', candidate: 'candidate', candidateWeight: 50,
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.01 }, evaluationIntervalMinutes: 15, maxDurationHours: 336, alpha: 0.05, power: 0.8,
  manualGateBeforePromotion: false, onHookFailure: 'hold', minRunHours: 168, burnInHours: 24, outcomeDelayMinutes: 120,
};

const gateway = { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' };
const custom = {
  baseline: { invocations: { namespace: 'Shop', metricName: 'Sessions', dimensions: { Arm: 'a' }, stat: 'Sum' } },
  candidate: {
    invocations: { namespace: 'Shop', metricName: 'Sessions', dimensions: { Arm: 'b' }, stat: 'Sum' },
    conversions: { namespace: 'Shop', metricName: 'Orders', dimensions: { Arm: 'b' }, stat: 'Sum' },
  },
};

describe('rollout records', () => {
  test('survive the round trip through DynamoDB items, with or without their source, lag and attribution window', () => {
    const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 100 }), fc.nat(), fc.constantFrom('running', 'paused', 'promoted') as fc.Arbitrary<'running'>,
      optional(fc.constantFrom({ gateway }, { custom })), optional(fc.integer({ min: 0, max: 3600 })), optional(fc.integer({ min: 0, max: MAX_ATTRIBUTION_SECONDS })),
      fc.integer({ min: 1, max: 10_000 }), optional(fc.constantFrom('arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3', 's3://models/churn/7/model.tar.gz')),
      (w, version, phase, source, metricLagSeconds, attributionSeconds, rolloutId, candidateVersion) => {
        const record: RolloutRecord = {
          endpointName: 'churn-ab', rolloutId, ...(candidateVersion !== undefined ? { candidateVersion } : {}), policyHash: 'abc', policy, version, updatedAtMs: 1_800_000_000_000, updatedBy: 'controller',
          state: { phase, step: 0, weights: { baseline: 100 - w, candidate: w }, startedAtMs: 1, stepStartedAtMs: 2 },
          ...(source ? { source } : {}),
          ...(metricLagSeconds !== undefined ? { metricLagSeconds } : {}),
          ...(attributionSeconds !== undefined ? { attributionSeconds } : {}),
        };
        const item = rolloutToItem(record);
        expect('source' in item).toBe(source !== undefined);
        expect('attributionSeconds' in item).toBe(attributionSeconds !== undefined);
        expect(rolloutFromItem(item)).toEqual(record);
      }));
  });

  test('store the source as JSON and the attribution window as a number', () => {
    const item = rolloutToItem({
      endpointName: 'churn-ab', rolloutId: 1, policyHash: 'abc', policy, version: 1, updatedAtMs: 0, updatedBy: 'controller',
      state: { phase: 'running', step: 0, weights: { baseline: 50, candidate: 50 }, startedAtMs: 0, stepStartedAtMs: 0 },
      source: { gateway }, attributionSeconds: 7200,
    });
    expect(item.source).toEqual({ S: JSON.stringify({ gateway }) });
    expect(item.attributionSeconds).toEqual({ N: '7200' });
  });

  test('keep audit entries in time order and unique by version', () => {
    const entry: AuditEntry = {
      endpointName: 'churn-ab', atMs: 1_800_000_000_000, version: 7, actor: 'controller', action: 'advance', reason: 'step 2',
      phase: 'running', fromWeights: { baseline: 90, candidate: 10 }, toWeights: { baseline: 80, candidate: 20 }, policyHash: 'abc',
      evidence: {
        baseline: { exposures: 1000, outcomes: 100 }, candidate: { exposures: 1000, outcomes: 120 },
        sampleRatio: { observed: 0.5, expected: 0.5, statistic: 0.2 }, lift: 0.2, statistic: 1.2, threshold: 20, pValue: 0.83,
      },
    };
    expect(auditFromItem(auditToItem(entry))).toEqual(entry);
    expect(auditSortKey(1000, 2) < auditSortKey(1000, 10)).toBe(true);
    expect(auditSortKey(999, 99) < auditSortKey(1000, 1)).toBe(true);
    // Entries of one write keep their order at the same time and version.
    expect(auditSortKey(1000, 2, 1) < auditSortKey(1000, 2, 2)).toBe(true);
    expect(auditFromItem(auditToItem({ ...entry, sequence: 2 }))).toEqual({ ...entry, sequence: 2 });
  });

  test('name the attribute a damaged item lacks', () => {
    expect(() => rolloutFromItem({ pk: { S: 'x' } })).toThrow("Stored item is missing the string attribute 'policyHash'");
  });
});

describe('the outbox of announced entries', () => {
  const entry: AuditEntry = {
    endpointName: 'churn-ab', rolloutId: 2, atMs: Date.parse('2026-11-22T12:00:00Z'), version: 13, actor: 'release-controller', action: 'promote', reason: 'better',
    phase: 'promoted', fromWeights: { baseline: 50, candidate: 50 }, toWeights: { baseline: 0, candidate: 100 }, policyHash: 'h', sequence: 1,
  };

  test('a delivery id names the endpoint, the rollout (or manual), the version, the place in the write and the time', () => {
    expect(deliveryId(entry)).toBe(`churn-ab/rollout-2/v13/1/${entry.atMs}`);
    expect(deliveryId({ endpointName: 'churn-ab', version: 4, atMs: 5 })).toBe('churn-ab/manual/v4/0/5');
    // Unique per entry, as the audit sort key is; and a table recreated, whose numbers start again, gives its entries new ids.
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }),
      (r1, v1, s1, t1, r2, v2, s2, t2) => (deliveryId({ endpointName: 'e', rolloutId: r1, version: v1, sequence: s1, atMs: t1 }) === deliveryId({ endpointName: 'e', rolloutId: r2, version: v2, sequence: s2, atMs: t2 }))
        === (r1 === r2 && v1 === v2 && s1 === s2 && t1 === t2)));
  });

  test('an outbox item survives the round trip with its acknowledgements, under its audit item\'s key', () => {
    expect(outboxSortKey(entry)).toBe(`OUTBOX#${auditSortKey(entry.atMs, entry.version, entry.sequence).slice('AUDIT#'.length)}`);
    expect(outboxFromItem(outboxToItem(entry))).toEqual({ sortKey: outboxSortKey(entry), entry, deliveryId: `churn-ab/rollout-2/v13/1/${entry.atMs}`, delivered: [] });
    expect(outboxFromItem({ ...outboxToItem(entry), delivered: { SS: ['sns', 'events'] } }).delivered).toEqual(['events', 'sns']);
  });

  test('every entry but holds is announced; promotions and aborts, the controller\'s or a person\'s, run the after-hooks', () => {
    const actions: AuditAction[] = ['hold', 'advance', 'promote', 'abort', 'manual-promote', 'manual-abort', 'manual-shift', 'weights-restored'];
    expect(actions.filter((action) => isAnnounced({ action }))).toEqual(actions.slice(1));
    expect(actions.map(afterHookOf)).toEqual([undefined, undefined, 'after-promotion', 'after-abort', 'after-promotion', 'after-abort', undefined, undefined]);
  });
});

describe('metric queries', () => {
  const source = { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' };

  test('read each variant\'s counts over the window as one period, outcome metrics by type', () => {
    const queries = metricQueries(gatewayMetrics(source, ['baseline', 'candidate']), ['baseline', 'candidate'], 0, 90 * 60_000 + 1);
    expect(queries).toHaveLength(12);
    expect(queries[2]).toEqual({
      Id: 'v0_conversions',
      MetricStat: {
        Metric: { Namespace: 'Modelship', MetricName: 'Conversions', Dimensions: [
          { Name: 'service', Value: 'modelship-gateway' }, { Name: 'EndpointName', Value: 'churn-ab' },
          { Name: 'VariantName', Value: 'baseline' }, { Name: 'OutcomeType', Value: 'purchase' },
        ] },
        Period: 91 * 60,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
    expect(queries[11].MetricStat).toMatchObject({ Stat: 'p99', Metric: { MetricName: 'GatewayLatency' } });
    expect(queries[11].MetricStat.Metric.Dimensions).toHaveLength(3);
  });

  test('read metrics the user named, and only the series given', () => {
    const invocations = { namespace: 'Shop', metricName: 'Sessions', dimensions: { Arm: 'b' }, stat: 'Sum' };
    const conversions = { namespace: 'Shop', metricName: 'Orders', dimensions: { Arm: 'b' }, stat: 'Sum' };
    const queries = metricQueries({ baseline: { invocations, conversions } }, ['baseline'], 0, 60_000);
    expect(queries.map((q) => [q.Id, q.MetricStat.Metric.MetricName, q.MetricStat.Metric.Dimensions])).toEqual([
      ['v0_invocations', 'Sessions', [{ Name: 'Arm', Value: 'b' }]],
      ['v0_conversions', 'Orders', [{ Name: 'Arm', Value: 'b' }]],
    ]);
  });

  test('read a long window as one period CloudWatch still keeps at that age', () => {
    const hour = 3_600_000;
    const day = 24 * hour;
    expect(windowPeriodSeconds(0, 4 * hour + 30_000)).toBe(4 * 3600 + 60);
    expect(windowPeriodSeconds(0, 20 * day + 60_000)).toBe(20 * 86_400 + 300);
    expect(windowPeriodSeconds(0, 70 * day + 60_000)).toBe(70 * 86_400 + 3600);
  });

  test('use whole minutes, at least one, for the period', () => {
    fc.assert(fc.property(fc.nat(10 ** 10), fc.nat(10 ** 9), (start, length) => {
      const period = windowPeriodSeconds(start, start + length);
      return period >= 60 && period % 60 === 0 && period * 1000 >= length;
    }));
  });

  test('count missing outcome datapoints as zero but missing invocations of a live variant as late', () => {
    const results = [
      { Id: 'v0_invocations', Values: [900, 100], StatusCode: 'Complete' },
      { Id: 'v0_conversions', Values: [30], StatusCode: 'Complete' },
      { Id: 'v0_p99latencyms', Values: [2, 5], StatusCode: 'Complete' },
      { Id: 'v1_invocations', Values: [], StatusCode: 'Complete' },
    ];
    const read = countsFromResults(results, ['baseline', 'candidate'], ['baseline']);
    expect(read).toEqual({
      complete: true,
      counts: {
        baseline: { invocations: 1000, errors: 0, conversions: 30, valueSum: 0, valueSumOfSquares: 0, p99LatencyMs: 5 },
        candidate: { invocations: 0, errors: 0, conversions: 0, valueSum: 0, valueSumOfSquares: 0 },
      },
    });
    expect(countsFromResults(results, ['baseline', 'candidate'], ['baseline', 'candidate']).complete).toBe(false);
    expect(countsFromResults([{ ...results[0], StatusCode: 'PartialData' }], ['baseline'], ['baseline']).complete).toBe(false);
  });

  test('read series in periods of a given length, and each period back per variant', () => {
    const hour = 3_600_000;
    const queries = metricQueries(gatewayMetrics(source, ['baseline', 'candidate']), ['baseline', 'candidate'], 0, 3 * hour, 3600);
    expect(new Set(queries.map((q) => q.MetricStat.Period))).toEqual(new Set([3600]));
    const at = (h: number) => new Date(h * hour);
    const results = [
      { Id: 'v0_invocations', Values: [100, 200, 50], Timestamps: [at(0), at(2), at(2)] },
      { Id: 'v0_conversions', Values: [10], Timestamps: [at(2)] },
      { Id: 'v0_p99latencyms', Values: [7, 9], Timestamps: [at(2), at(2)] },
      // Outside the periods: ignored.
      { Id: 'v1_invocations', Values: [5, 6], Timestamps: [at(-1), at(3)] },
    ];
    expect(countsByPeriod(results, ['baseline', 'candidate'], 0, 3600, 3)).toEqual({
      baseline: [
        { invocations: 100, errors: 0, conversions: 0, valueSum: 0, valueSumOfSquares: 0 },
        undefined,
        { invocations: 250, errors: 0, conversions: 10, valueSum: 0, valueSumOfSquares: 0, p99LatencyMs: 9 },
      ],
      candidate: [undefined, undefined, undefined],
    });
  });
});

describe('a rollout per candidate version', () => {
  const V3 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3';
  const V4 = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/4';
  const settings = { policy, policyHash: 'abc', source: { gateway }, metricLagSeconds: 180, attributionSeconds: 7200 };
  const first: RolloutRecord = {
    ...settings, endpointName: 'churn-ab', rolloutId: 3, candidateVersion: V3, version: 41, updatedAtMs: 5, updatedBy: 'release-controller',
    state: { phase: 'promoted', step: 0, weights: { baseline: 0, candidate: 100 }, startedAtMs: 1, stepStartedAtMs: 2 },
  };

  test('a new rollout takes the next number and version, the first weights, counts from now, and says what it follows', () => {
    const { record, audit } = startRollout({
      endpointName: 'churn-ab', previous: first, settings, candidateVersion: V4, endpointWeights: { baseline: 0, candidate: 100 },
      nowMs: 1_000, actor: 'release-controller', why: 'a new candidate version was deployed',
    });
    expect(record).toMatchObject({ rolloutId: 4, candidateVersion: V4, version: 42, state: { phase: 'running', step: 0, weights: { baseline: 50, candidate: 50 }, startedAtMs: 1_000, stepStartedAtMs: 1_000 } });
    expect(record.source).toEqual({ gateway });
    expect(audit).toMatchObject({ action: 'started', rolloutId: 4, candidateVersion: V4, version: 42, fromWeights: { baseline: 0, candidate: 100 }, toWeights: { baseline: 50, candidate: 50 } });
    expect(audit.reason).toBe('rollout #4 of churn/4 started under policy abc: a new candidate version was deployed; rollout #3 (churn/3) ended promoted with {"baseline":0,"candidate":100}');
  });

  test('the first rollout of an endpoint is number 1', () => {
    const { record, audit } = startRollout({
      endpointName: 'churn-ab', settings, candidateVersion: V3, endpointWeights: { baseline: 100, candidate: 0 }, nowMs: 1_000, actor: 'a', why: 'first',
    });
    expect([record.rolloutId, record.version, audit.reason]).toEqual([1, 1, 'rollout #1 of churn/3 started under policy abc: first']);
  });

  test('an item an earlier controller wrote reads as rollout 1 of an unknown version', () => {
    const item = rolloutToItem(first);
    delete item.rolloutId;
    delete item.candidateVersion;
    const read = rolloutFromItem(item);
    expect(read.rolloutId).toBe(1);
    expect(read.candidateVersion).toBeUndefined();
  });

  test('versions read short: a model package as group/version, anything else as it is', () => {
    expect(shortVersion(V4)).toBe('churn/4');
    expect(shortVersion('arn:aws-cn:sagemaker:cn-north-1:111111111111:model-package/team-churn/12')).toBe('team-churn/12');
    expect(shortVersion('s3://models/churn/7/model.tar.gz')).toBe('s3://models/churn/7/model.tar.gz');
    expect(shortVersion(undefined)).toBe('unknown version');
  });

  test('audit entries keep their rollout and version, and manual-change records survive the round trip', () => {
    const entry: AuditEntry = {
      endpointName: 'churn-ab', rolloutId: 2, candidateVersion: V4, atMs: 7, version: 3, actor: 'a', action: 'manual-undo', reason: 'r', phase: 'aborted',
      fromWeights: { baseline: 0, candidate: 100 }, toWeights: { baseline: 100, candidate: 0 }, policyHash: 'abc',
    };
    expect(auditFromItem(auditToItem(entry))).toEqual(entry);
    const manual = { endpointName: 'churn-ab', version: 4, weights: { a: 60, b: 40 }, updatedAtMs: 9, updatedBy: 'arn:aws:iam::1:user/ana' };
    expect(manualFromItem(manualToItem(manual))).toEqual(manual);
    expect(manualToItem(manual).sk).toEqual({ S: 'MANUAL' });
  });
});
