import { gzipSync } from 'zlib';
import { AttributeValue, BatchWriteItemCommand, BatchWriteItemCommandInput, ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { AwsClientStub } from 'aws-sdk-client-mock';

/** The condition the shipper claims a line with: no entry, a lease that ran out, or its own claim. */
export const CLAIM_CONDITION = 'attribute_not_exists(#id) OR (#state = :sending AND (#lease < :now OR #owner = :me))';

/** An in-memory DynamoDB table: what PutItem (with the claim condition) and BatchWriteItem do to it, answered as DynamoDB does. */
export function ledgerTable() {
  const items = new Map<string, Record<string, AttributeValue>>();
  const put = (input: PutItemCommandInput) => {
    if (input.ConditionExpression !== CLAIM_CONDITION) {
      throw new Error(`unexpected condition ${input.ConditionExpression}`);
    }
    const key = input.Item!.id.S!;
    const old = items.get(key);
    const now = Number(input.ExpressionAttributeValues![':now'].N);
    const me = input.ExpressionAttributeValues![':me'].S;
    if (old && !(old.state.S === 'sending' && (Number(old.leaseUntil.N) < now || old.owner?.S === me))) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: old });
    }
    items.set(key, input.Item!);
    return { Attributes: old };
  };
  const write = (input: BatchWriteItemCommandInput) => {
    const requests = Object.values(input.RequestItems ?? {}).flat();
    if (requests.length > 25) {
      throw new Error(`${requests.length} items in one BatchWriteItem`);
    }
    for (const request of requests) {
      if (request.PutRequest) {
        items.set(request.PutRequest.Item!.id.S!, request.PutRequest.Item!);
      } else {
        items.delete(request.DeleteRequest!.Key!.id.S!);
      }
    }
    return { UnprocessedItems: {} };
  };
  return { items, put, write };
}

/** The in-memory table behind the client mock. */
export function memoryLedger(dynamodb: AwsClientStub<DynamoDBClient>): Map<string, Record<string, AttributeValue>> {
  const table = ledgerTable();
  dynamodb.on(PutItemCommand).callsFake(table.put);
  dynamodb.on(BatchWriteItemCommand).callsFake(table.write);
  return table.items;
}

/** A subscription delivery as CloudWatch Logs sends it: gzipped JSON in base64, event ids `<prefix><index>`. */
export function logsEvent(messages: readonly string[], options: { messageType?: string; idPrefix?: string } = {}): CloudWatchLogsEvent {
  const data = {
    messageType: options.messageType ?? 'DATA_MESSAGE', owner: '111111111111', logGroup: '/aws/lambda/gateway', logStream: '2026/11/02/[$LATEST]abc',
    subscriptionFilters: ['records'],
    logEvents: messages.map((message, i) => ({ id: `${options.idPrefix ?? ''}${i}`, timestamp: 1_700_000_000_000 + i, message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}
