/**
 * Fault injection across the release controller and the CLI: every AWS call a tick or a command
 * makes can fail (no effect), lose its answer (the effect happens, the caller sees an error), or
 * crash the function right after it took effect (nothing after it runs). After the faults, clean
 * ticks run and the world is checked: every change of the rollout carries its audit entry, no
 * entry is duplicated, every announced entry reached every consumer, every repeat carries the
 * same delivery id and follows a delivery that was not acknowledged, the endpoint's weights are
 * the state's, and the outbox is empty. The counts are printed for the closing note.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DeleteItemCommand, DeleteItemCommandInput, DynamoDBClient, GetItemCommand, GetItemCommandInput, QueryCommand, QueryCommandInput, TransactWriteItemsCommand,
  TransactWriteItemsCommandInput, UpdateItemCommand, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeEndpointConfigCommandInput, DescribeModelCommand, DescribeModelCommandInput, ListTagsCommand, SageMakerClient,
  UpdateEndpointWeightsAndCapacitiesCommand, UpdateEndpointWeightsAndCapacitiesCommandInput,
} from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import './release-controller-faults-env';
import { SETTINGS } from './release-env';
import { tick, TickTrigger } from '../../lambda/release-controller';
import type { AwsClients } from '../../lib/cli/aws';
import { run } from '../../lib/cli/program';
import { UNIT_BUCKETS } from '../../lib/release/metric-queries';
import { seededRandom } from '../../lib/release/random';
import { afterHookOf, AuditEntry, auditFromItem, deliveryId, isAnnounced, Item, manualFromItem, rolloutFromItem } from '../../lib/release/rollout-record';
import { sameWeights } from '../../lib/release/weights';
import { fakeIo } from '../cli/fakes';
import { RolloutTable } from '../hooks/runtime/rollout-table';

const dynamodb = mockClient(DynamoDBClient);
const sagemaker = mockClient(SageMakerClient);
const cloudwatch = mockClient(CloudWatchClient);
const eventbridge = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);

const START = Date.parse('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;
const ENDPOINT = SETTINGS.endpointName;
const AFTER_HOOK = `hook:${SETTINGS.afterHooks[0]}`;
const versionArn = (n: number) => `arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/${n}`;

/** What a fault does to the call it hits. */
type Mode = 'fail' | 'lost' | 'crash';
const MODES: readonly Mode[] = ['fail', 'lost', 'crash'];

/** One call as the fault plan sees it: its number within the invocation, and which step it is. */
interface Call {
  readonly n: number;
  readonly step: string;
}

/** The CLI's clients: the same classes, so the same mocks and the same world. */
const CLI_CONFIG = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };
const CLI_CLIENTS: AwsClients = {
  sagemaker: new SageMakerClient(CLI_CONFIG), dynamodb: new DynamoDBClient(CLI_CONFIG), cloudwatch: new CloudWatchClient(CLI_CONFIG), sts: new STSClient(CLI_CONFIG), sfn: new SFNClient(CLI_CONFIG),
};

/** The counts a run ends with. */
interface Counts {
  faults: number;
  changes: number;
  auditEntries: number;
  auditLost: number;
  auditDuplicated: number;
  untracedWeightMoves: number;
  deliveries: number;
  eventsLost: number;
  eventsRepeated: number;
  unjustifiedRepeats: number;
  phantomDeliveries: number;
  weightsMismatched: number;
  outboxLeft: number;
}

/** The AWS a run acts on: the rollout table, the endpoint, the consumers, and the faults. */
class World {
  public readonly table = new RolloutTable();
  public weights: Record<string, number> = { baseline: 100, candidate: 0 };
  public candidate = 3;
  public alarm: 'OK' | 'ALARM' = 'OK';
  public status: 'InService' | 'Updating' = 'InService';
  /** Which call of the current invocation fails how. */
  public plan: (call: Call) => Mode | undefined = () => undefined;
  public faults = 0;
  public changes = 0;
  public auditLost = 0;
  public untracedWeightMoves = 0;
  /** Every delivery a consumer received, and whether that (consumer, id) had been acknowledged before it. */
  public readonly received: { consumer: string; id: string; alreadyAcknowledged: boolean }[] = [];
  private readonly acknowledged = new Set<string>();
  private calls = 0;
  private crashed = false;

  /** A new invocation (a tick, a command): a fresh process, numbered calls from 1. */
  public invocation(): void {
    this.calls = 0;
    this.crashed = false;
  }

  /** A call through the fault plan: refused by a crashed process, failed, or made and then failed or crashed. */
  public call<I, O>(step: string, effect: (input: I) => O): (input: I) => O {
    return (input) => {
      if (this.crashed) {
        throw Object.assign(new Error('the function had stopped'), { name: 'Crashed' });
      }
      this.calls += 1;
      const mode = this.plan({ n: this.calls, step });
      if (mode) {
        this.faults += 1;
      }
      if (mode === 'fail') {
        throw Object.assign(new Error(`injected: ${step} failed`), { name: 'InternalServerError', $fault: 'server' });
      }
      const out = effect(input);
      if (mode === 'lost') {
        throw Object.assign(new Error(`injected: ${step} answer lost`), { name: 'TimeoutError' });
      }
      if (mode === 'crash') {
        this.crashed = true;
        throw Object.assign(new Error(`injected: crash after ${step}`), { name: 'Crashed' });
      }
      return out;
    };
  }

  /** The calls the current invocation made so far. */
  public get callCount(): number {
    return this.calls;
  }

  /** A transaction, checking that a change of the rollout's phase or weights carries an entry that says so. */
  public transact(input: TransactWriteItemsCommandInput): Record<string, never> {
    const before = this.table.withPrefix('ROLLOUT').map(rolloutFromItem)[0];
    const out = this.table.transact(input);
    this.changes += 1;
    const puts = (input.TransactItems ?? []).map((t) => t.Put!.Item as Item);
    const state = puts[0];
    const entries = puts.filter((i) => (i.sk as { S: string }).S.startsWith('AUDIT#')).map(auditFromItem);
    if ((state.sk as { S: string }).S === 'ROLLOUT') {
      const after = rolloutFromItem(state);
      const moved = !before || before.state.phase !== after.state.phase || !sameWeights(before.state.weights, after.state.weights);
      const last = entries.at(-1);
      if (moved && !(last && last.version === after.version && last.phase === after.state.phase && sameWeights(last.toWeights, after.state.weights))) {
        this.auditLost += 1;
      }
    } else if (entries.length === 0) {
      this.auditLost += 1;
    }
    return out;
  }

  /** A weight update: traffic moves only to weights the stored state holds, with an entry of that version saying so. */
  public updateWeights(input: UpdateEndpointWeightsAndCapacitiesCommandInput): Record<string, never> {
    const weights = Object.fromEntries((input.DesiredWeightsAndCapacities ?? []).map((d) => [d.VariantName!, d.DesiredWeight!]));
    const rollout = this.table.withPrefix('ROLLOUT').map(rolloutFromItem)[0];
    const manual = this.table.withPrefix('MANUAL').map(manualFromItem)[0];
    const audit = this.table.withPrefix('AUDIT#').map(auditFromItem);
    const traced = (version: number, stateWeights: Record<string, number>, ofRollout: boolean) => sameWeights(stateWeights, weights)
      && audit.some((e) => e.version === version && (e.rolloutId !== undefined) === ofRollout && sameWeights(e.toWeights, weights));
    if (!((rollout && traced(rollout.version, rollout.state.weights, true)) || (manual && traced(manual.version, manual.weights, false)))) {
      this.untracedWeightMoves += 1;
    }
    this.weights = weights;
    return {};
  }

  /** An acknowledgement, remembered per (consumer, delivery id). */
  public acknowledge(input: UpdateItemCommandInput): Record<string, never> {
    const item = this.table.items.get(`${input.Key!.pk.S}|${input.Key!.sk.S}`);
    const out = this.table.update(input);
    const id = item && 'S' in item.deliveryId ? item.deliveryId.S : '?';
    for (const consumer of (input.ExpressionAttributeValues![':consumer'] as { SS: string[] }).SS) {
      this.acknowledged.add(`${consumer}|${id}`);
    }
    return out;
  }

  public receive(consumer: string, id: string): void {
    this.received.push({ consumer, id, alreadyAcknowledged: this.acknowledged.has(`${consumer}|${id}`) });
  }

  /** The counts, read from what the table and the consumers hold. */
  public counts(): Counts {
    const audit = this.table.withPrefix('AUDIT#').map(auditFromItem);
    const byId = new Map<string, AuditEntry[]>();
    for (const entry of audit) {
      byId.set(deliveryId(entry), [...(byId.get(deliveryId(entry)) ?? []), entry]);
    }
    const started = new Map<number, number>();
    for (const entry of audit.filter((e) => e.action === 'started')) {
      started.set(entry.rolloutId!, (started.get(entry.rolloutId!) ?? 0) + 1);
    }
    const owed = audit.filter(isAnnounced).flatMap((e) => ['events', 'sns', ...(afterHookOf(e.action) ? [AFTER_HOOK] : [])].map((consumer) => `${consumer}|${deliveryId(e)}`));
    const got = new Set(this.received.map((r) => `${r.consumer}|${r.id}`));
    const rollout = this.table.withPrefix('ROLLOUT').map(rolloutFromItem)[0];
    const manual = this.table.withPrefix('MANUAL').map(manualFromItem)[0];
    const stateWeights = rollout?.state.weights ?? manual?.weights;
    return {
      faults: this.faults,
      changes: this.changes,
      auditEntries: audit.length,
      auditLost: this.auditLost,
      auditDuplicated: [...byId.values()].reduce((n, entries) => n + entries.length - 1, 0) + [...started.values()].reduce((n, count) => n + count - 1, 0),
      untracedWeightMoves: this.untracedWeightMoves,
      deliveries: this.received.length,
      eventsLost: owed.filter((key) => !got.has(key)).length,
      eventsRepeated: this.received.length - got.size,
      unjustifiedRepeats: this.received.filter((r) => r.alreadyAcknowledged).length,
      phantomDeliveries: [...got].filter((key) => !byId.has(key.slice(key.indexOf('|') + 1))).length,
      weightsMismatched: stateWeights && !sameWeights(stateWeights, this.weights) ? 1 : 0,
      outboxLeft: this.table.withPrefix('OUTBOX#').length,
    };
  }
}

let world: World;

/** Per-variant counts that make the candidate clearly better, for every window. */
function strongMetrics(input: GetMetricDataCommandInput) {
  const counts = { v0: { invocations: 20000, conversions: 2000, errors: 0 }, v1: { invocations: 20000, conversions: 3000, errors: 0 } };
  const spread = (total: number, bucket: number) => Math.floor(total / UNIT_BUCKETS) + (bucket < total % UNIT_BUCKETS ? 1 : 0);
  return {
    MetricDataResults: input.MetricDataQueries!.flatMap((q) => {
      const cohort = /^c(\d)_(\d+)_(exposures|outcomes)$/.exec(q.Id!);
      const request = /^(v\d)_(invocations|errors)$/.exec(q.Id!);
      const c = counts[(cohort ? `v${cohort[1]}` : request?.[1] ?? 'v0') as 'v0' | 'v1'];
      const value = cohort ? spread(cohort[3] === 'exposures' ? c.invocations : c.conversions, Number(cohort[2])) : request ? c[request[2] as 'invocations' | 'errors'] : undefined;
      return value === undefined ? [] : [{ Id: q.Id, Values: [value], Timestamps: [input.StartTime!], StatusCode: 'Complete' as const }];
    }),
  };
}

beforeEach(() => {
  for (const mock of [dynamodb, sagemaker, cloudwatch, eventbridge, sns, lambda, sts]) {
    mock.reset();
  }
  world = new World();
  const w = <I, O>(step: string, effect: (input: I) => O) => (input: I) => world.call(step, effect)(input);
  dynamodb.on(GetItemCommand).callsFake(w('state read', (input: GetItemCommandInput) => world.table.get(input)));
  dynamodb.on(TransactWriteItemsCommand).callsFake(w('state write', (input: TransactWriteItemsCommandInput) => world.transact(input)));
  dynamodb.on(QueryCommand).callsFake(w('outbox read', (input: QueryCommandInput) => world.table.query(input)));
  dynamodb.on(UpdateItemCommand).callsFake(w('acknowledgement', (input: UpdateItemCommandInput) => world.acknowledge(input)));
  dynamodb.on(DeleteItemCommand).callsFake(w('settle', (input: DeleteItemCommandInput) => world.table.delete(input)));
  sagemaker.on(DescribeEndpointCommand).callsFake(w('describe endpoint', () => ({
    EndpointName: ENDPOINT, EndpointArn: `arn:aws:sagemaker:eu-west-1:111111111111:endpoint/${ENDPOINT}`, EndpointStatus: world.status,
    EndpointConfigName: `config-${world.candidate}`,
    ProductionVariants: Object.entries(world.weights).map(([VariantName, weight]) => ({ VariantName, CurrentWeight: weight, DesiredWeight: weight, CurrentInstanceCount: 1 })),
  })));
  sagemaker.on(DescribeEndpointConfigCommand).callsFake(w('describe config', (input: DescribeEndpointConfigCommandInput) => ({
    EndpointConfigName: input.EndpointConfigName, ProductionVariants: ['baseline', 'candidate'].map((VariantName) => ({ VariantName, ModelName: `${input.EndpointConfigName}-${VariantName}` })),
  })));
  sagemaker.on(DescribeModelCommand).callsFake(w('describe model', (input: DescribeModelCommandInput) => ({
    ModelName: input.ModelName, PrimaryContainer: { ModelPackageName: versionArn(Number(/^config-(\d+)-/.exec(input.ModelName!)![1])) },
  })));
  sagemaker.on(ListTagsCommand).callsFake(w('list tags', () => ({ Tags: [] })));
  sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).callsFake(w('weight update', (input: UpdateEndpointWeightsAndCapacitiesCommandInput) => world.updateWeights(input)));
  cloudwatch.on(GetMetricDataCommand).callsFake(w('metrics', strongMetrics));
  cloudwatch.on(DescribeAlarmsCommand).callsFake(w('alarms', () => ({ MetricAlarms: [{ AlarmName: 'churn-ab-candidate-5xx', StateValue: world.alarm }] })));
  eventbridge.on(PutEventsCommand).callsFake(w('event delivery', (input: PutEventsCommandInput) => {
    world.receive('events', JSON.parse(input.Entries![0].Detail!).deliveryId);
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
  }));
  sns.on(PublishCommand).callsFake(w('sns', (input: PublishCommandInput) => {
    world.receive('sns', input.MessageAttributes!.deliveryId.StringValue!);
    return { MessageId: 'm' };
  }));
  lambda.on(InvokeCommand).callsFake(w('hook invoke', (input: InvokeCommandInput) => {
    if (input.InvocationType === 'Event') {
      world.receive(`hook:${input.FunctionName}`, JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()).deliveryId);
      return { StatusCode: 202 };
    }
    return { StatusCode: 200, Payload: Buffer.from(JSON.stringify({ pass: true })) };
  }));
  sts.on(GetCallerIdentityCommand).callsFake(w('caller', () => ({ Arn: 'arn:aws:iam::111111111111:user/ana' })));
});

/** One controller tick as Lambda runs it: a failure is the invocation's failure, retried later. */
async function tickAt(nowMs: number, plan: World['plan'] = () => undefined, trigger: TickTrigger = 'schedule'): Promise<'ok' | 'failed'> {
  world.invocation();
  world.plan = plan;
  try {
    await tick(nowMs, trigger);
    return 'ok';
  } catch {
    return 'failed';
  } finally {
    world.plan = () => undefined;
  }
}

/** One CLI command as a person runs it. */
async function cli(argv: readonly string[], nowMs: number, plan: World['plan'] = () => undefined): Promise<number> {
  world.invocation();
  world.plan = plan;
  try {
    return await run([...argv, '--timeout', '60'], fakeIo({ now: nowMs }), () => CLI_CLIENTS);
  } finally {
    world.plan = () => undefined;
  }
}

/** Clean ticks after the faults: what a later schedule does. */
async function settle(fromMs: number): Promise<void> {
  for (let i = 1; i <= 3; i += 1) {
    expect(await tickAt(fromMs + i * 60_000)).toBe('ok');
  }
}

const CLEAN = { auditLost: 0, auditDuplicated: 0, untracedWeightMoves: 0, eventsLost: 0, unjustifiedRepeats: 0, phantomDeliveries: 0, weightsMismatched: 0, outboxLeft: 0 };

/** A running rollout (started and applied by a clean tick), its guardrail alarm then firing: the tick that aborts is the one under test. */
async function runningThenAlarm(): Promise<number> {
  expect(await tickAt(START)).toBe('ok');
  world.alarm = 'ALARM';
  return START + HOUR;
}

/** Counts the calls a clean tick makes at `at` from the state `setup` leaves, in a world of its own. */
async function callsOfACleanTick(setup: () => Promise<number>): Promise<{ count: number; steps: string[] }> {
  const steps: string[] = [];
  const at = await setup();
  world.invocation();
  world.plan = (call) => {
    steps.push(call.step);
    return undefined;
  };
  await tick(at);
  world.plan = () => undefined;
  return { count: world.callCount, steps };
}

describe('the release controller under faults', () => {
  const POINTS = ['state write', 'weight update', 'event delivery', 'sns', 'hook invoke', 'acknowledgement', 'settle', 'outbox read'] as const;

  describe.each(POINTS.flatMap((point) => MODES.map((mode) => [point, mode] as const)))('an abort whose %s meets "%s"', (point, mode) => {
    test('is recorded once, delivered to every consumer, and the endpoint ends at the state\'s weights', async () => {
      const at = await runningThenAlarm();
      let hit = 0;
      await tickAt(at, (call) => (call.step === point && hit++ === 0 ? mode : undefined));
      expect(world.faults).toBe(1);
      await settle(at);
      const counts = world.counts();
      expect(counts).toMatchObject(CLEAN);
      const aborts = world.table.withPrefix('AUDIT#').map(auditFromItem).filter((e) => e.action === 'abort');
      expect(aborts).toHaveLength(1);
      // Only a delivery made and not acknowledged is repeated: one whose answer was lost or whose
      // function stopped right after it, or whose acknowledgement (the first is the event's) failed.
      const repeated = ({ 'event delivery': mode !== 'fail' ? 'events' : undefined, sns: mode !== 'fail' ? 'sns' : undefined, 'hook invoke': mode !== 'fail' ? AFTER_HOOK : undefined,
        acknowledgement: mode === 'fail' ? 'events' : undefined } as Partial<Record<string, string | undefined>>)[point];
      expect(world.received.filter((r) => r.id === deliveryId(aborts[0])).map((r) => r.consumer).sort()).toEqual([AFTER_HOOK, 'events', 'sns', ...(repeated ? [repeated] : [])].sort());
      expect(counts.eventsRepeated).toBe(repeated ? 1 : 0);
      expect(world.weights).toEqual({ baseline: 100, candidate: 0 });
    });
  });

  test('a crash between any two calls of an aborting tick, then retried ticks: one abort entry, every delivery made, repeats only of unacknowledged ones', async () => {
    const { count, steps } = await callsOfACleanTick(runningThenAlarm);
    expect(steps).toEqual(expect.arrayContaining(['state read', 'state write', 'weight update', 'outbox read', 'event delivery', 'acknowledgement', 'sns', 'hook invoke', 'settle']));
    const totals = { crashes: 0, repeated: 0 };
    for (let n = 1; n <= count; n += 1) {
      world = new World();
      const at = await runningThenAlarm();
      await tickAt(at, (call) => (call.n === n ? 'crash' : undefined));
      await settle(at);
      const counts = world.counts();
      expect({ n, ...counts }).toMatchObject({ n, ...CLEAN });
      expect(world.table.withPrefix('AUDIT#').map(auditFromItem).filter((e) => e.action === 'abort')).toHaveLength(1);
      totals.crashes += counts.faults;
      totals.repeated += counts.eventsRepeated;
    }
    // One crash per call of the tick; a crash right after a delivery (before its acknowledgement) is the only repeat.
    expect(totals.crashes).toBe(count);
    expect(totals.repeated).toBe(steps.filter((s) => ['event delivery', 'sns', 'hook invoke'].includes(s)).length);
    process.stdout.write(`release-controller faults: a crash after each of the ${count} calls of an aborting tick: ${totals.crashes} crashes, 0 lost, 0 duplicated, ${totals.repeated} repeats\n`);
  });

  test('a crash between any two calls of a CLI abort, then a controller tick: recorded once or not at all, and delivered by the controller', async () => {
    const setup = async () => {
      expect(await tickAt(START)).toBe('ok');
      return START + HOUR;
    };
    const probe = new World();
    world = probe;
    await setup();
    world.invocation();
    expect(await cli(['abort', ENDPOINT, '--reason', 'bad reviews'], START + HOUR)).toBe(0);
    const count = world.callCount;
    expect(count).toBeGreaterThan(3);
    let recorded = 0;
    for (let n = 1; n <= count; n += 1) {
      world = new World();
      const at = await setup();
      const code = await cli(['abort', ENDPOINT, '--reason', 'bad reviews'], at, (call) => (call.n === n ? 'crash' : undefined));
      expect(code).not.toBe(0);
      await settle(at);
      const aborts = world.table.withPrefix('AUDIT#').map(auditFromItem).filter((e) => e.action === 'manual-abort');
      expect(aborts.length).toBeLessThanOrEqual(1);
      recorded += aborts.length;
      expect({ n, ...world.counts() }).toMatchObject({ n, ...CLEAN });
      if (aborts.length === 1) {
        expect(world.received.filter((r) => r.id === deliveryId(aborts[0])).map((r) => r.consumer).sort()).toEqual([AFTER_HOOK, 'events', 'sns'].sort());
        expect(world.weights).toEqual({ baseline: 100, candidate: 0 });
      }
    }
    // A crash before the transaction leaves nothing; one at or after it leaves the abort, announced by the controller.
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(count);
    process.stdout.write(`release-controller faults: a crash after each of the ${count} calls of a CLI abort: ${recorded} left the abort recorded (and announced once by the controller), ${count - recorded} left nothing\n`);
  });

  test('a seeded random schedule of faults over 200 seeds: nothing lost, nothing duplicated, repeats only with the same id', async () => {
    const total: Counts = {
      faults: 0, changes: 0, auditEntries: 0, auditLost: 0, auditDuplicated: 0, untracedWeightMoves: 0, deliveries: 0, eventsLost: 0, eventsRepeated: 0,
      unjustifiedRepeats: 0, phantomDeliveries: 0, weightsMismatched: 0, outboxLeft: 0,
    };
    const SEEDS = 200;
    const STEPS = 16;
    const P_FAULT = 0.06;
    let commands = 0;
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      world = new World();
      const rand = seededRandom(seed);
      const pick = <T>(options: readonly T[]): T => options[Math.floor(rand() * options.length)];
      const faulty: World['plan'] = () => (rand() < P_FAULT ? pick(MODES) : undefined);
      let now = START;
      for (let step = 0; step < STEPS; step += 1) {
        now += 3 * HOUR;
        const r = rand();
        if (r < 0.5) {
          await tickAt(now, faulty);
        } else if (r < 0.55) {
          // SageMaker reports a state change: a tick that only starts a rollout for a new version, and delivers.
          await tickAt(now, faulty, 'endpoint-change');
        } else if (r < 0.8) {
          commands += 1;
          await cli(pick([
            ['shift', ENDPOINT, '--to', 'candidate', '--weight', String(Math.floor(rand() * 101))],
            ['pause', ENDPOINT], ['resume', ENDPOINT], ['abort', ENDPOINT], ['promote', ENDPOINT, '--full'], ['retry', ENDPOINT], ['undo', ENDPOINT, '--reason', 'r'],
          ]), now, faulty);
        } else if (r < 0.86) {
          world.candidate += 1;
        } else if (r < 0.9) {
          // The endpoint updates (or finishes updating) for a while: the controller holds, the CLI refuses.
          world.status = world.status === 'InService' ? 'Updating' : 'InService';
        } else if (r < 0.94) {
          // Someone moves traffic outside modelship.
          const candidate = Math.floor(rand() * 101);
          world.weights = { baseline: 100 - candidate, candidate };
        } else {
          world.alarm = world.alarm === 'OK' ? 'ALARM' : 'OK';
        }
      }
      world.status = 'InService';
      await settle(now);
      const counts = world.counts();
      expect({ seed, ...counts }).toMatchObject({ seed, ...CLEAN });
      for (const key of Object.keys(total) as (keyof Counts)[]) {
        total[key] += counts[key];
      }
    }
    // Enough happened for the counts to mean something.
    expect(total.faults).toBeGreaterThan(200);
    expect(total.changes).toBeGreaterThan(1000);
    expect(commands).toBeGreaterThan(500);
    expect(total).toMatchObject(CLEAN);
    // Every repeat was a delivery retried after it was made but not acknowledged (checked per delivery above).
    expect(total.eventsRepeated).toBeLessThanOrEqual(total.faults);
    process.stdout.write(`release-controller faults: ${SEEDS} seeds, ${commands} CLI commands, ${JSON.stringify(total)}\n`);
  });
});
