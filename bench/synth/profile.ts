/**
 * Attributes the samples of a V8 CPU profile (`node --cpu-prof`) of a CDK app's synthesis to
 * the activities that cost time. Each sample goes to the innermost frame on its stack that names
 * an activity (a `require` made while cdk-nag runs counts as module loading, token resolution made
 * by cdk-nag counts as cdk-nag); samples with no such frame go to the phase they ran in.
 */
import { readFileSync } from 'fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** One activity's share of the profiled time. */
export interface Activity {
  readonly activity: string;
  readonly ms: number;
  readonly share: number;
}

/** Where a profiled run spent its time. */
export interface ProfileBreakdown {
  readonly totalMs: number;
  /** Exclusive activities; their shares add up to 1. */
  readonly activities: Activity[];
  /** Time under any frame of aws-cdk-lib's token resolver, whatever activity asked for it (overlaps the above). */
  readonly tokenResolutionMs: number;
  /** The functions with the most self time, for the record. */
  readonly hottest: { readonly frame: string; readonly ms: number }[];
}

/** An activity recognised by one frame of the stack. */
interface FrameRule {
  readonly activity: string;
  readonly matches: (frame: CallFrame, entry: string) => boolean;
}

const inPackage = (frame: CallFrame, name: string) => frame.url.includes(`/node_modules/${name}/`);
const inCdkLib = (frame: CallFrame, file: string) => frame.url.includes(`/node_modules/aws-cdk-lib/${file}`);
/** The function Node.js wraps each CommonJS module in: its top-level code. */
const isModuleBody = (frame: CallFrame) => frame.functionName === '' && frame.lineNumber === 0 && frame.columnNumber === 0 && frame.url !== '';

export const ACTIVITIES = {
  gc: 'garbage collection',
  transpile: "TypeScript transpile (the app's loader: ts-node or esbuild-register)",
  sourceMaps: 'source maps (mapping stack traces to .ts, reading maps)',
  modules: 'module loading (read, compile, top-level code)',
  nagModules: "module loading asked for by cdk-nag's rules (instanceof checks load each service's L1 module)",
  cfnValidate: 'CloudFormation Validate plugin (flag validateAgainstDefaultRules)',
  nag: 'cdk-nag AwsSolutions (validation plugin)',
  wildcards: 'acknowledge-wildcards (lib/private)',
  bundling: 'Lambda bundling (esbuild, child processes)',
  assets: 'asset staging (fingerprint, copy)',
  stackTraces: 'construct stack traces',
  tree: 'construct tree building (app code, constructors)',
  prepare: 'synthesis: prepare (references, dependencies)',
  validations: 'synthesis: construct validations (addValidation)',
  templates: 'synthesis: templates (resolve, render, write)',
  otherSynth: 'synthesis: other (aspects, metadata, tree.json, manifests)',
  other: 'other (start-up, exit, V8)',
} as const;

/** Loader frames that only wrap Node's own module compilation. */
const LOADER_WRAPPERS = new Set(['m._compile', 'require.extensions.<computed>', 'Module._compile']);

/**
 * The innermost frame that one of these rules matches names the activity; when two rules match
 * the same frame, the first wins. The phases (prepare, validations, templates, the entry's own
 * code) enclose the rest, so they only take what no narrower rule claims.
 */
const RULES: FrameRule[] = [
  { activity: ACTIVITIES.gc, matches: (f) => f.functionName === '(garbage collector)' },
  {
    activity: ACTIVITIES.transpile,
    matches: (f) => inPackage(f, 'typescript') || inPackage(f, 'esbuild')
      || ((inPackage(f, 'ts-node') || inPackage(f, 'esbuild-register') || inPackage(f, 'pirates')) && !LOADER_WRAPPERS.has(f.functionName)),
  },
  {
    activity: ACTIVITIES.sourceMaps,
    matches: (f) => f.url.startsWith('node:internal/source_map/') || (inPackage(f, '@cspotcode/source-map-support') && !f.functionName.includes('processEmitHook')),
  },
  { activity: ACTIVITIES.tree, matches: (f, entry) => isModuleBody(f) && f.url.endsWith(entry) },
  { activity: ACTIVITIES.modules, matches: (f) => f.url.startsWith('node:internal/modules/') || isModuleBody(f) },
  { activity: ACTIVITIES.cfnValidate, matches: (f) => inPackage(f, '@aws/cloudformation-validate') || inCdkLib(f, 'core/lib/validation/cloudformation-validate-plugin') },
  { activity: ACTIVITIES.nag, matches: (f) => inPackage(f, 'cdk-nag') },
  { activity: ACTIVITIES.wildcards, matches: (f) => /\/lib\/private\/acknowledge-wildcards\.[jt]s$/.test(f.url) },
  { activity: ACTIVITIES.bundling, matches: (f) => f.url === 'node:child_process' || inCdkLib(f, 'aws-lambda-nodejs/lib/bundling') },
  { activity: ACTIVITIES.assets, matches: (f) => inCdkLib(f, 'core/lib/asset-staging') || inCdkLib(f, 'core/lib/fs/') },
  { activity: ACTIVITIES.stackTraces, matches: (f) => inCdkLib(f, 'core/lib/private/stack-trace') },
  { activity: ACTIVITIES.prepare, matches: (f) => inCdkLib(f, 'core/lib/private/prepare-app') },
  { activity: ACTIVITIES.validations, matches: (f) => inCdkLib(f, 'core/lib/private/synthesis') && f.functionName === 'validateTree' },
  { activity: ACTIVITIES.templates, matches: (f) => inCdkLib(f, 'core/lib/private/synthesis') && f.functionName === 'synthesizeTree' },
  { activity: ACTIVITIES.otherSynth, matches: (f) => inCdkLib(f, 'core/lib/app') && f.functionName === 'synth' },
];

const isTokenResolution = (f: CallFrame) => inCdkLib(f, 'core/lib/private/resolve') || inCdkLib(f, 'core/lib/resolvable');

/**
 * Reads a `.cpuprofile` and attributes its time. `entry` is the app's entry file as it appears at
 * the end of frame URLs (`bin/app.ts`): its own top-level code is the app, not module loading.
 */
export function attributeProfile(path: string, entry: string): ProfileBreakdown {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parent.set(child, node.id);
    }
  }
  const stackOf = (id: number): CallFrame[] => {
    const frames: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      frames.push(byId.get(at)!.callFrame);
    }
    return frames; // innermost first
  };
  const activityCache = new Map<number, { activity: string; resolving: boolean }>();
  const classify = (id: number) => {
    let known = activityCache.get(id);
    if (!known) {
      const frames = stackOf(id);
      let activity: string | undefined;
      for (const frame of frames) {
        activity = RULES.find((rule) => rule.matches(frame, entry))?.activity;
        if (activity) {
          break;
        }
      }
      if (activity === ACTIVITIES.modules && frames.some((f) => inPackage(f, 'cdk-nag'))) {
        activity = ACTIVITIES.nagModules;
      }
      known = {
        activity: activity ?? ACTIVITIES.other,
        resolving: frames.some(isTokenResolution),
      };
      activityCache.set(id, known);
    }
    return known;
  };

  const spent = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  let resolving = 0;
  profile.samples.forEach((id, index) => {
    // A sample's time is the gap to the next sample.
    const micros = profile.timeDeltas[index + 1] ?? 0;
    total += micros;
    const { activity, resolving: inResolver } = classify(id);
    spent.set(activity, (spent.get(activity) ?? 0) + micros);
    if (inResolver) {
      resolving += micros;
    }
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(lib|bin)\//, '$1/')}`;
    self.set(name, (self.get(name) ?? 0) + micros);
  });
  const ms = (micros: number) => micros / 1000;
  return {
    totalMs: ms(total),
    activities: [...spent.entries()]
      .map(([activity, micros]) => ({ activity, ms: ms(micros), share: micros / total }))
      .sort((a, b) => b.ms - a.ms),
    tokenResolutionMs: ms(resolving),
    hottest: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([frame, micros]) => ({ frame, ms: ms(micros) })),
  };
}
