import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricResult } from '../../release/metric-queries';

/**
 * The CloudWatch reads the release controller and the CLI share: metric data over a window,
 * every page of it, and alarm states.
 */

/** Runs the queries over [startMs, endMs], following GetMetricData's pages; one result per query. */
export async function getMetricData(cloudwatch: CloudWatchClient, queries: readonly MetricQuery[], startMs: number, endMs: number): Promise<MetricResult[]> {
  const byId = new Map<string, { Id: string; Values: number[]; Timestamps: Date[]; StatusCode?: string }>();
  let NextToken: string | undefined;
  do {
    const out = await cloudwatch.send(new GetMetricDataCommand({
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

/** Each named alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`), metric and composite alike; `MISSING` for one that does not exist. */
export async function alarmStates(cloudwatch: CloudWatchClient, names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) {
    return new Map();
  }
  const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...names] }));
  const states = new Map([...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => [a.AlarmName ?? '', a.StateValue ?? 'UNKNOWN']));
  return new Map(names.map((name) => [name, states.get(name) ?? 'MISSING']));
}
