/**
 * Inference gateway benchmark: the time the gateway adds to a prediction, the size of each
 * hook's bundle and the time to load it cold.
 *
 * Each hook's bundle is the one that deploys and ships (`npm run bundle`, which the bench script
 * runs first when a source changed). The invocation handler runs in this process against a stub
 * of the SageMaker and Secrets Manager APIs on 127.0.0.1, alternating request by request with a
 * bare `InvokeEndpoint` through the same stub (the baseline), so both see the same machine noise.
 * Run: `npm run bench:gateway`.
 */
import { execFileSync } from 'child_process';
import { openSync, statSync, writeFileSync, writeSync } from 'fs';
import { createServer, IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { cpus } from 'os';
import { join } from 'path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GATEWAY_SETTINGS_VARIABLE, GatewaySettings } from '../../lib/hooks/runtime/gateway-settings';
import { BUNDLE_DIR, hooks, REQUEST_PATH_LIMIT_KIB } from '../../lambda/bundle';

/** The inference hooks the bundle target applies to; the others are reported for comparison. */
const GATEWAY_HOOKS = ['gateway-invoke', 'gateway-outcome', 'log-shipper'];
const HOOKS = [...GATEWAY_HOOKS, ...hooks().filter((hook) => !GATEWAY_HOOKS.includes(hook))];
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const WARMUP = 500;
const COLD_RUNS = 15;
const BUNDLE_LIMIT_KB = REQUEST_PATH_LIMIT_KIB;
const ADDED_P99_LIMIT_MS = 2;

/** Each hook's bundle, as it deploys. */
function bundlePaths(): Record<string, string> {
  return Object.fromEntries(HOOKS.map((hook) => [hook, join(BUNDLE_DIR, hook, 'index.js')]));
}

/** A stub of SageMaker Runtime, SageMaker and Secrets Manager: just enough for the handler. */
function startStub(): Promise<{ url: string; close: () => void }> {
  const prediction = JSON.stringify({ churn: 0.27, segment: 'b' });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.url?.endsWith('/invocations')) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-invoked-production-variant': String(req.headers['x-amzn-sagemaker-target-variant'] ?? 'baseline') });
        res.end(prediction);
      } else if (target.endsWith('DescribeEndpoint')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ EndpointName: 'bench', EndpointStatus: 'InService', ProductionVariants: [
          { VariantName: 'baseline', CurrentWeight: 0.9 }, { VariantName: 'candidate', CurrentWeight: 0.1 },
        ] }));
      } else if (target.endsWith('GetSecretValue')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ SecretString: 'k'.repeat(64) }));
      } else {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __type: 'UnknownOperation', message: `stub does not serve ${target || req.url}` }));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
  }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: samples.reduce((s, x) => s + x, 0) / samples.length };
}

/** Median time to load a bundle in a fresh Node.js process, in milliseconds. */
function coldImportMs(bundle: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const runs = Array.from({ length: COLD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script], { env }).toString()));
  return summary(runs).p50;
}

function event(body: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: 'POST /invocations', rawPath: '/invocations', rawQueryString: '', isBase64Encoded: false,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), requestContext: {} as APIGatewayProxyEventV2['requestContext'],
  };
}

async function main(): Promise<void> {
  const stub = await startStub();
  try {
    const bundles = bundlePaths();
    const settings: GatewaySettings = {
      endpointName: 'bench', variants: ['baseline', 'candidate'], modelVersions: { baseline: 'v1', candidate: 'v2' },
      signingKeySecretId: 'bench-key', maxPayloadBytes: 1024 * 1024, weightsTtlSeconds: 10, assignmentSalt: 'bench',
      bodySampleRate: 0.1, redactFields: ['email'], maxRecordedBodyBytes: 64 * 1024, outcomeWindowSeconds: 7 * 86400, outcomeTableName: 'outcomes',
      outcomeTypes: ['purchase'], maxOutcomeValue: 1e9,
    };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: stub.url, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', [GATEWAY_SETTINGS_VARIABLE]: JSON.stringify(settings),
    });

    const sizes = Object.fromEntries(HOOKS.map((hook) => [hook, Math.round(statSync(bundles[hook]).size / 1024)]));
    const cold = Object.fromEntries(GATEWAY_HOOKS.map((hook) => [hook, coldImportMs(bundles[hook], process.env)]));
    // The floor of a cold import: loading an empty module.
    const coldNode = coldImportMs(join(__dirname, 'empty.js'), process.env);

    // Records and EMF go where Lambda sends them, a stream the handler writes synchronously; here /dev/null.
    // The record lines are kept (a push, parsed after the run) for the handler's own view of its time.
    const devNull = openSync('/dev/null', 'w');
    const realWrite = process.stdout.write.bind(process.stdout);
    let recordLines: string[] = [];
    process.stdout.write = ((chunk: string | Uint8Array) => {
      if (typeof chunk === 'string') {
        if (chunk.startsWith('{"recordType"')) {
          recordLines.push(chunk);
        }
        writeSync(devNull, chunk);
      } else {
        writeSync(devNull, chunk);
      }
      return true;
    }) as typeof process.stdout.write;

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundles['gateway-invoke']) as { handler: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> };
    const bare = new SageMakerRuntimeClient({});
    const input = { tenure: 14, plan: 'pro', email: 'someone@example.com', usage: [3, 5, 8, 13] };
    const scenarios = {
      weighted: () => event({ input }),
      sticky: (i: number) => event({ input, unitId: `user-${i % 1000}` }),
    };
    const results: Record<string, { bare: ReturnType<typeof summary>; gateway: ReturnType<typeof summary>; addedP50: number; addedP99: number; ratioP50: number; ownTime: ReturnType<typeof summary> }> = {};
    for (const [name, make] of Object.entries(scenarios)) {
      recordLines = [];
      const bareTimes: number[] = [];
      const gatewayTimes: number[] = [];
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        const e = make(i);
        let t = performance.now();
        await bare.send(new InvokeEndpointCommand({ EndpointName: 'bench', Body: JSON.stringify(input), ContentType: 'application/json', Accept: 'application/json' }));
        const b = performance.now() - t;
        t = performance.now();
        const out = await handler(e);
        const g = performance.now() - t;
        if (out.statusCode !== 200) {
          throw new Error(`the handler answered ${out.statusCode}: ${out.body}`);
        }
        if (i >= WARMUP) {
          bareTimes.push(b);
          gatewayTimes.push(g);
        }
      }
      const b = summary(bareTimes);
      const g = summary(gatewayTimes);
      // Per request, as the handler saw it: its total time minus its wait for InvokeEndpoint.
      const own = recordLines.slice(WARMUP).map((line) => {
        const r = JSON.parse(line) as { latencyMs: number; modelLatencyMs: number };
        return r.latencyMs - r.modelLatencyMs;
      });
      results[name] = { bare: b, gateway: g, addedP50: g.p50 - b.p50, addedP99: g.p99 - b.p99, ratioP50: g.p50 / b.p50, ownTime: summary(own) };
    }
    process.stdout.write = realWrite;

    const report = {
      measuredAt: new Date().toISOString(),
      machine: `${process.platform} ${process.arch}, Node.js ${process.version}, ${cpus().length} CPUs`,
      requests: REQUESTS,
      latencyMs: results,
      bundleKiB: sizes,
      coldImportMs: { ...cold, emptyModule: coldNode },
      targets: { addedP99Ms: ADDED_P99_LIMIT_MS, bundleKiB: BUNDLE_LIMIT_KB },
      met: Object.values(results).every((r) => r.addedP99 < ADDED_P99_LIMIT_MS && r.ownTime.p99 < ADDED_P99_LIMIT_MS) && GATEWAY_HOOKS.every((hook) => sizes[hook] < BUNDLE_LIMIT_KB),
    };
    writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const ms = (x: number) => x.toFixed(3);
    const lines = [
      '# Inference gateway benchmark results', '',
      `Measured ${report.measuredAt} on ${report.machine}; ${REQUESTS} requests per scenario after ${WARMUP} warm-up requests.`, '',
      '| scenario | bare InvokeEndpoint p50 / p99 (ms) | through the gateway handler p50 / p99 (ms) | added p50 / p99 (ms) | ratio p50 | handler\'s own time per request p50 / p99 (ms) |',
      '|---|---|---|---|---|---|',
      ...Object.entries(results).map(([n, r]) => `| ${n} | ${ms(r.bare.p50)} / ${ms(r.bare.p99)} | ${ms(r.gateway.p50)} / ${ms(r.gateway.p99)} | ${ms(r.addedP50)} / ${ms(r.addedP99)} | ${r.ratioP50.toFixed(2)} | ${ms(r.ownTime.p50)} / ${ms(r.ownTime.p99)} |`),
      '', '"Added" is the gateway\'s percentile minus the bare call\'s, both over the same interleaved requests; "own time" is, per request, the handler\'s',
      'total minus its wait for InvokeEndpoint, from its own records (it leaves out writing the record and the EMF line, which the totals include).',
      '', '| hook | bundle (KiB, minified) | cold import (ms, median of 15) |', '|---|---|---|',
      ...HOOKS.map((h) => `| ${h} | ${sizes[h]} | ${cold[h] === undefined ? '' : ms(cold[h])} |`),
      `| (an empty module, the floor) | | ${ms(coldNode)} |`,
      '', `Targets: added p99 under ${ADDED_P99_LIMIT_MS} ms, the gateway's bundles (${GATEWAY_HOOKS.join(', ')}) under ${BUNDLE_LIMIT_KB} KiB. Met: ${report.met ? 'yes' : 'no'}.`, '',
    ];
    writeFileSync(join(__dirname, 'results.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    stub.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
