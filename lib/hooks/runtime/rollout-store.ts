import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import {
  AUDIT_PREFIX, AuditEntry, auditFromItem, auditToItem, Item, manualFromItem, manualKey, ManualRecord, manualToItem, RolloutRecord, rolloutFromItem, rolloutKey,
  rolloutToItem,
} from '../../release/rollout-record';

function isConditionalFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';
}

/**
 * The rollout table as the controller and the CLI use it: consistent reads, writes that
 * succeed only if nobody wrote since `expectedVersion` was read (or, for the first, only if the
 * item is still absent), and the audit trail.
 */
export class RolloutStore {
  constructor(private readonly dynamodb: DynamoDBClient, private readonly tableName: string) {}

  /** The endpoint's rollout, or undefined when none was started. */
  public async read(endpointName: string): Promise<RolloutRecord | undefined> {
    const out = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: rolloutKey(endpointName), ConsistentRead: true }));
    return out.Item ? rolloutFromItem(out.Item as Item) : undefined;
  }

  /** Writes the rollout unless it changed since `expectedVersion` (undefined: unless it exists); false on a conflict. */
  public write(record: RolloutRecord, expectedVersion: number | undefined): Promise<boolean> {
    return this.conditionalPut(rolloutToItem(record), expectedVersion);
  }

  /** The manual-change record of an endpoint without a rollout, or undefined before its first change. */
  public async readManual(endpointName: string): Promise<ManualRecord | undefined> {
    const out = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: manualKey(endpointName), ConsistentRead: true }));
    return out.Item ? manualFromItem(out.Item as Item) : undefined;
  }

  /** Writes the manual-change record unless it changed since `expectedVersion` (undefined: unless it exists); false on a conflict. */
  public writeManual(record: ManualRecord, expectedVersion: number | undefined): Promise<boolean> {
    return this.conditionalPut(manualToItem(record), expectedVersion);
  }

  private async conditionalPut(item: Item, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.dynamodb.send(new PutItemCommand({
        TableName: this.tableName,
        Item: item,
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } }),
      }));
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) {
        return false;
      }
      throw error;
    }
  }

  /**
   * Appends audit entries; an entry is never overwritten. An entry already there was written by
   * an earlier attempt of the same change (its key holds the rollout version the change wrote),
   * so a retry counts it as appended.
   */
  public async append(entries: readonly AuditEntry[]): Promise<void> {
    for (const entry of entries) {
      try {
        await this.dynamodb.send(new PutItemCommand({ TableName: this.tableName, Item: auditToItem(entry), ConditionExpression: 'attribute_not_exists(sk)' }));
      } catch (error) {
        if (!isConditionalFailure(error)) {
          throw error;
        }
      }
    }
  }

  /** The newest `limit` audit entries first (reading on while DynamoDB's 1 MB pages cut the query short). */
  public async history(endpointName: string, limit: number): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let ExclusiveStartKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const out: QueryCommandOutput = await this.dynamodb.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
        ExpressionAttributeValues: { ':pk': { S: endpointName }, ':audit': { S: AUDIT_PREFIX } },
        ScanIndexForward: false,
        Limit: limit - entries.length,
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }));
      entries.push(...(out.Items ?? []).map((item) => auditFromItem(item as Item)));
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey && entries.length < limit);
    return entries;
  }
}
