import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, QueryCommand, QueryCommandOutput, TransactionCanceledException, TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AUDIT_PREFIX, AuditEntry, auditFromItem, auditToItem, deliveryId, isAnnounced, Item, manualFromItem, manualKey, ManualRecord, manualToItem, OUTBOX_PREFIX, outboxFromItem,
  outboxToItem, PendingDelivery, RolloutRecord, rolloutFromItem, rolloutKey, rolloutToItem,
} from '../../release/rollout-record';

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

const CONDITIONAL_FAILURE = 'ConditionalCheckFailed';
/** A cancellation because another transaction was writing the same item (the CLI racing a tick). */
const TRANSACTION_CONFLICT = 'TransactionConflict';
/** How often a transaction DynamoDB reports still in progress (an SDK retry while the first attempt runs) is sent again, with its token. */
export const IN_PROGRESS_ATTEMPTS = 4;
/** The pause before the first of those, doubled for each next one, in ms. */
const IN_PROGRESS_DELAY_MS = 100;

/**
 * What a change writes, only if the stored item still has `expectedVersion` (undefined: only if
 * there is none yet): the rollout after the change, or for an endpoint without a rollout its
 * manual-change record.
 */
export type StateWrite =
  | { readonly rollout: RolloutRecord; readonly expectedVersion: number | undefined }
  | { readonly manual: ManualRecord; readonly expectedVersion: number | undefined };

function isConditionalFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';
}

/**
 * The rollout table as the controller and the CLI use it: consistent reads; changes written in
 * one transaction with their audit entries and outbox, only if nobody wrote since
 * `expectedVersion` was read (or, for the first, only if the item is still absent); the outbox's
 * deliveries acknowledged and settled; and the audit trail.
 */
export class RolloutStore {
  constructor(private readonly dynamodb: DynamoDBClient, private readonly tableName: string) {}

  /** The endpoint's rollout, or undefined when none was started. */
  public async read(endpointName: string): Promise<RolloutRecord | undefined> {
    const out = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: rolloutKey(endpointName), ConsistentRead: true }));
    return out.Item ? rolloutFromItem(out.Item as Item) : undefined;
  }

  /** The manual-change record of an endpoint without a rollout, or undefined before its first change. */
  public async readManual(endpointName: string): Promise<ManualRecord | undefined> {
    const out = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: manualKey(endpointName), ConsistentRead: true }));
    return out.Item ? manualFromItem(out.Item as Item) : undefined;
  }

  /**
   * Writes a change in one transaction: the rollout (or the manual-change record) unless it
   * changed since `expectedVersion` was read (undefined: unless it exists), its audit entries and
   * an outbox item for each announced one, none of which may exist yet. False when the state's
   * condition failed (another writer came first) or another transaction was writing the state
   * (`TransactionConflict`): then nothing was written. A transaction DynamoDB reports in progress
   * is sent again with the same token, up to `IN_PROGRESS_ATTEMPTS` times in all. The request token is
   * the change's hash, so the SDK's retry of a transaction whose answer was lost succeeds instead
   * of failing on its own write.
   * @throws Error for a change of more than `MAX_TRANSACTION_ITEMS` items, or an audit key another change already holds
   */
  public async commit(write: StateWrite, audit: readonly AuditEntry[]): Promise<boolean> {
    const absent = { ConditionExpression: 'attribute_not_exists(sk)' };
    const TransactItems = [
      {
        Put: {
          TableName: this.tableName,
          Item: 'rollout' in write ? rolloutToItem(write.rollout) : manualToItem(write.manual),
          ...(write.expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: String(write.expectedVersion) } } }),
        },
      },
      ...audit.map((entry) => ({ Put: { TableName: this.tableName, Item: auditToItem(entry), ...absent } })),
      ...audit.filter(isAnnounced).map((entry) => ({ Put: { TableName: this.tableName, Item: outboxToItem(entry), ...absent } })),
    ];
    if (TransactItems.length > MAX_TRANSACTION_ITEMS) {
      throw new Error(`A change writes at most ${MAX_TRANSACTION_ITEMS} items (the state, its audit entries and their outbox items), got ${TransactItems.length}`);
    }
    const ClientRequestToken = createHash('sha256').update(JSON.stringify(TransactItems)).digest('hex').slice(0, 36);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dynamodb.send(new TransactWriteItemsCommand({ TransactItems, ClientRequestToken }));
        return true;
      } catch (error) {
        if ((error as Error).name === 'TransactionInProgressException' && attempt < IN_PROGRESS_ATTEMPTS) {
          // The same token: DynamoDB answers for the attempt in progress once it is done, and writes nothing twice.
          await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_DELAY_MS * 2 ** (attempt - 1)));
          continue;
        }
        const reasons = (error as Error).name === 'TransactionCanceledException' ? (error as TransactionCanceledException).CancellationReasons ?? [] : [];
        // Another writer came first (its write is done) or is writing the state now: nothing of this change was written.
        if (reasons[0]?.Code === CONDITIONAL_FAILURE || reasons[0]?.Code === TRANSACTION_CONFLICT) {
          return false;
        }
        if (reasons.some((r) => r.Code === CONDITIONAL_FAILURE)) {
          throw new Error(`An audit or outbox key of this change is taken by another change (${audit.map((e) => deliveryId(e)).join(', ')}); nothing was written`, { cause: error });
        }
        throw error;
      }
    }
  }

  /**
   * The outbox items whose deliveries are still owed, oldest first (reading on through DynamoDB's
   * 1 MB pages), each with the entry of its audit item: an item without an announced audit entry
   * under the same key (one that was not written with its change: anyone allowed to put items
   * could forge it) is returned apart, to be removed, never delivered.
   */
  public async pending(endpointName: string): Promise<{ readonly owed: PendingDelivery[]; readonly unmatched: PendingDelivery[] }> {
    const owed: PendingDelivery[] = [];
    const unmatched: PendingDelivery[] = [];
    for (const item of await this.outboxItems(endpointName)) {
      const audit = await this.dynamodb.send(new GetItemCommand({
        TableName: this.tableName, Key: { pk: { S: endpointName }, sk: { S: `${AUDIT_PREFIX}${item.sortKey.slice(OUTBOX_PREFIX.length)}` } }, ConsistentRead: true,
      }));
      const entry = audit.Item ? auditFromItem(audit.Item as Item) : undefined;
      if (entry && isAnnounced(entry)) {
        // The audit entry as checked decides what goes out, not the outbox item's copy.
        owed.push({ ...item, entry, deliveryId: deliveryId(entry) });
      } else {
        unmatched.push(item);
      }
    }
    return { owed, unmatched };
  }

  private async outboxItems(endpointName: string): Promise<PendingDelivery[]> {
    const deliveries: PendingDelivery[] = [];
    for await (const items of this.queryPages(endpointName, { name: ':outbox', value: OUTBOX_PREFIX }, { ConsistentRead: true })) {
      deliveries.push(...items.map(outboxFromItem));
    }
    return deliveries;
  }

  /**
   * The items of one endpoint whose sort key begins with `prefix` (its value under its placeholder name), a page at a time (DynamoDB
   * cuts a query at 1 MB); `limit` asks each page for at most that many more.
   */
  private async *queryPages(endpointName: string, prefix: { readonly name: string; readonly value: string }, options: { ConsistentRead?: boolean; ScanIndexForward?: boolean; limit?: () => number }): AsyncGenerator<Item[]> {
    let ExclusiveStartKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out: QueryCommandOutput = await this.dynamodb.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: `pk = :pk AND begins_with(sk, ${prefix.name})`,
        ExpressionAttributeValues: { ':pk': { S: endpointName }, [prefix.name]: { S: prefix.value } },
        ...(options.ConsistentRead ? { ConsistentRead: true } : {}),
        ...(options.ScanIndexForward === false ? { ScanIndexForward: false } : {}),
        ...(options.limit ? { Limit: options.limit() } : {}),
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }));
      yield (out.Items ?? []) as Item[];
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  /**
   * Records that `consumer` received the delivery: a conditional update that adds it to the
   * item's `delivered` set while the item exists (one that another tick settled stays settled).
   */
  public async acknowledge(delivery: PendingDelivery, consumer: string): Promise<void> {
    try {
      await this.dynamodb.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: delivery.entry.endpointName }, sk: { S: delivery.sortKey } },
        UpdateExpression: 'ADD delivered :consumer',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeValues: { ':consumer': { SS: [consumer] } },
      }));
    } catch (error) {
      if (!isConditionalFailure(error)) {
        throw error;
      }
    }
  }

  /** Removes a delivery every consumer acknowledged from the outbox (its audit entry stays). */
  public async settle(delivery: PendingDelivery): Promise<void> {
    await this.dynamodb.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: delivery.entry.endpointName }, sk: { S: delivery.sortKey } } }));
  }

  /** The newest `limit` audit entries first (reading on while DynamoDB's 1 MB pages cut the query short). */
  public async history(endpointName: string, limit: number): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const items of this.queryPages(endpointName, { name: ':audit', value: AUDIT_PREFIX }, { ScanIndexForward: false, limit: () => limit - entries.length })) {
      entries.push(...items.map(auditFromItem));
      if (entries.length >= limit) {
        break;
      }
    }
    return entries;
  }
}
