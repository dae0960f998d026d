import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricResult } from '../release/metric-queries';
import type { AwsClients } from './aws';

/** Runs the queries over [startMs, endMs], following GetMetricData's pages; one result per query. */
export async function getMetricData(aws: AwsClients, queries: readonly MetricQuery[], startMs: number, endMs: number): Promise<MetricResult[]> {
  const byId = new Map<string, { Id: string; Values: number[]; Timestamps: Date[]; StatusCode?: string }>();
  let NextToken: string | undefined;
  do {
    const out = await aws.cloudwatch.send(new GetMetricDataCommand({
      MetricDataQueries: [...queries],
      StartTime: new Date(startMs),
      EndTime: new Date(endMs),
      ScanBy: 'TimestampAscending',
      ...(NextToken ? { NextToken } : {}),
    }));
    for (const r of out.MetricDataResults ?? []) {
      // A query's datapoints may continue on the next page: its values are appended.
      const id = r.Id ?? '';
      const seen = byId.get(id) ?? { Id: id, Values: [], Timestamps: [] };
      seen.Values.push(...(r.Values ?? []));
      seen.Timestamps.push(...(r.Timestamps ?? []));
      // PartialData on one page means "more on the next": the last page's status stands.
      seen.StatusCode = r.StatusCode ?? seen.StatusCode;
      byId.set(id, seen);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return [...byId.values()];
}
