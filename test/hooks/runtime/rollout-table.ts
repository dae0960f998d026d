import {
  ConditionalCheckFailedException, DeleteItemCommand, DeleteItemCommandInput, DynamoDBClient, GetItemCommand, GetItemCommandInput, PutItemCommandInput, QueryCommand,
  QueryCommandInput, TransactionCanceledException, TransactWriteItemsCommand, TransactWriteItemsCommandInput, UpdateItemCommand, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Item } from '../../../lib/release/rollout-record';

/**
 * Test helpers for the rollout table: the puts a change's transactions made, as single puts, and
 * an in-memory table that answers the calls the controller and the CLI make with DynamoDB's
 * semantics (conditions, atomic transactions, string sets), shared by several clients.
 */

/** A put as a change's transaction carries it. */
export type TransactPut = Pick<PutItemCommandInput, 'TableName' | 'Item' | 'ConditionExpression' | 'ExpressionAttributeValues'>;

/** Every put of every `TransactWriteItems` call a mocked client received, in order. */
export function transactPuts(dynamodb: AwsClientStub<DynamoDBClient>): TransactPut[] {
  return dynamodb.commandCalls(TransactWriteItemsCommand).flatMap((c) => (c.args[0].input.TransactItems ?? []).map((t) => t.Put!));
}

/** The puts of items whose sort key starts with `prefix` (`ROLLOUT`, `MANUAL`, `AUDIT#`, `OUTBOX#`). */
export function putsOf(dynamodb: AwsClientStub<DynamoDBClient>, prefix: string): TransactPut[] {
  return transactPuts(dynamodb).filter((p) => (p.Item!.sk as { S: string }).S.startsWith(prefix));
}

/** A transaction refused because an item's condition failed, as DynamoDB reports it. */
export function cancelled(codes: readonly string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons', $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

type Stored = Record<string, NonNullable<Item[string]>>;

const keyOf = (item: Readonly<Record<string, unknown>>) => `${(item.pk as { S: string }).S}|${(item.sk as { S: string }).S}`;

/** Whether a condition of the forms the store writes holds for the item (or its absence). */
function holds(condition: string | undefined, values: Record<string, unknown> | undefined, existing: Stored | undefined): boolean {
  if (condition === undefined) {
    return true;
  }
  if (condition.startsWith('attribute_not_exists')) {
    return existing === undefined;
  }
  if (condition.startsWith('attribute_exists')) {
    return existing !== undefined;
  }
  const version = /^version = :expected$/.exec(condition);
  if (version) {
    const stored = existing?.version;
    return stored !== undefined && 'N' in stored && stored.N === (values?.[':expected'] as { N: string }).N;
  }
  throw new Error(`the in-memory table does not understand the condition '${condition}'`);
}

/** An in-memory rollout table. */
export class RolloutTable {
  /** Every item, by `pk|sk`. */
  public readonly items = new Map<string, Stored>();

  /** Answers the table's calls on a mocked client with this table (for a controller's or a CLI's client). */
  public serve(dynamodb: AwsClientStub<DynamoDBClient>): void {
    dynamodb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => this.get(input));
    dynamodb.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommandInput) => this.transact(input));
    dynamodb.on(QueryCommand).callsFake((input: QueryCommandInput) => this.query(input));
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => this.update(input));
    dynamodb.on(DeleteItemCommand).callsFake((input: DeleteItemCommandInput) => this.delete(input));
  }

  /** Stores an item as it is, e.g. one an earlier tick left. */
  public put(item: Item): void {
    this.items.set(keyOf(item), structuredClone(item) as Stored);
  }

  /** The items whose sort key starts with `prefix`, in key order. */
  public withPrefix(prefix: string): Item[] {
    return [...this.items.values()].filter((i) => (i.sk as { S: string }).S.startsWith(prefix)).sort((a, b) => keyOf(a).localeCompare(keyOf(b))) as Item[];
  }

  public get(input: GetItemCommandInput): { Item?: Item } {
    const item = this.items.get(keyOf(input.Key!));
    return item ? { Item: structuredClone(item) as Item } : {};
  }

  public transact(input: TransactWriteItemsCommandInput): Record<string, never> {
    const puts = (input.TransactItems ?? []).map((t) => {
      if (!t.Put) {
        throw new Error('the in-memory table serves transactions of puts only');
      }
      return t.Put;
    });
    const codes = puts.map((p) => (holds(p.ConditionExpression, p.ExpressionAttributeValues, this.items.get(keyOf(p.Item!))) ? 'None' : 'ConditionalCheckFailed'));
    if (codes.some((c) => c !== 'None')) {
      throw cancelled(codes);
    }
    for (const put of puts) {
      this.items.set(keyOf(put.Item!), structuredClone(put.Item) as Stored);
    }
    return {};
  }

  public query(input: QueryCommandInput): { Items: Item[]; Count: number } {
    const values = input.ExpressionAttributeValues!;
    const pk = (values[':pk'] as { S: string }).S;
    const prefix = (Object.entries(values).find(([name]) => name !== ':pk')![1] as { S: string }).S;
    let items = this.withPrefix(prefix).filter((i) => (i.pk as { S: string }).S === pk);
    if (input.ScanIndexForward === false) {
      items = items.reverse();
    }
    items = items.slice(0, input.Limit ?? items.length).map((i) => structuredClone(i));
    return { Items: items, Count: items.length };
  }

  public update(input: UpdateItemCommandInput): Record<string, never> {
    const key = keyOf(input.Key!);
    const existing = this.items.get(key);
    if (!holds(input.ConditionExpression, input.ExpressionAttributeValues, existing)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    const add = /^ADD (\w+) (:\w+)$/.exec(input.UpdateExpression ?? '');
    if (!add || !existing) {
      throw new Error(`the in-memory table does not understand the update '${input.UpdateExpression}'`);
    }
    const before = existing[add[1]];
    const added = (input.ExpressionAttributeValues![add[2]] as { SS: string[] }).SS;
    existing[add[1]] = { SS: [...new Set([...(before && 'SS' in before ? before.SS : []), ...added])] };
    return {};
  }

  public delete(input: DeleteItemCommandInput): Record<string, never> {
    this.items.delete(keyOf(input.Key!));
    return {};
  }
}
