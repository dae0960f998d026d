/**
 * Writes, from a synthesized cloud assembly, a CDK app that builds the same stages and stacks with
 * one `new CfnResource(stack, logicalId, { type, properties })` per resource, and compares two
 * assemblies. The generated app is the synth-time floor: aws-cdk-lib's own work to emit these
 * templates, without any construct above L1.
 */
import { readFileSync, writeFileSync } from 'fs';
import { isDeepStrictEqual } from 'util';
import { join } from 'path';

interface ArtifactManifest {
  readonly type: string;
  readonly environment?: string;
  readonly dependencies?: string[];
  readonly displayName?: string;
  readonly properties?: Record<string, unknown> & { readonly directoryName?: string; readonly file?: string; readonly templateFile?: string; readonly stackName?: string };
}

interface AssemblyManifest {
  readonly artifacts?: Record<string, ArtifactManifest>;
}

interface FileAsset {
  readonly displayName?: string;
  readonly source: { readonly path: string; readonly packaging?: 'file' | 'zip'; readonly executable?: string[] };
}

interface AssetManifest {
  readonly files?: Record<string, FileAsset>;
  readonly dockerImages?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** One stack of the assembly: where it is, what it holds. */
export interface StackInfo {
  /** The construct path, e.g. `dev/Serving`. */
  readonly path: string;
  readonly artifactId: string;
  readonly assemblyDir: string;
  readonly artifact: ArtifactManifest;
  readonly template: Json;
  readonly assets: AssetManifest;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Every stack of the assembly, nested stage assemblies included, in manifest order. */
export function stacksOf(assemblyDir: string, prefix = ''): StackInfo[] {
  const manifest = readJson<AssemblyManifest>(join(assemblyDir, 'manifest.json'));
  const stacks: StackInfo[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly') {
      stacks.push(...stacksOf(join(assemblyDir, artifact.properties!.directoryName!), `${prefix}${artifact.properties!.displayName ?? artifactId}/`));
    } else if (artifact.type === 'aws:cloudformation:stack') {
      const assetArtifact = (artifact.dependencies ?? []).map((id) => manifest.artifacts![id]).find((a) => a?.type === 'cdk:asset-manifest');
      stacks.push({
        path: artifact.displayName ?? `${prefix}${artifactId}`,
        artifactId,
        assemblyDir,
        artifact,
        template: readJson<Json>(join(assemblyDir, artifact.properties!.templateFile!)),
        assets: assetArtifact ? readJson<AssetManifest>(join(assemblyDir, assetArtifact.properties!.file!)) : {},
      });
    }
  }
  return stacks;
}

/** Template parameters and rules that the default stack synthesizer adds by itself. */
const SYNTHESIZER_PARAMETERS = new Set(['BootstrapVersion']);
const SYNTHESIZER_RULES = new Set(['CheckBootstrapVersion']);
const HANDLED_SECTIONS = new Set(['AWSTemplateFormatVersion', 'Description', 'Resources', 'Conditions', 'Mappings', 'Outputs', 'Parameters', 'Rules']);

const literal = (value: unknown) => JSON.stringify(value);

/** The generated statements that rebuild one stack. */
function stackSource(info: StackInfo, stageVar: string, stackVar: string, stackIndex: Map<string, string>): string[] {
  const { template } = info;
  const unknown = Object.keys(template).filter((section) => !HANDLED_SECTIONS.has(section));
  const extraParameters = Object.keys((template.Parameters as Json | undefined) ?? {}).filter((p) => !SYNTHESIZER_PARAMETERS.has(p));
  const extraRules = Object.keys((template.Rules as Json | undefined) ?? {}).filter((r) => !SYNTHESIZER_RULES.has(r));
  if (unknown.length || extraParameters.length || extraRules.length || Object.keys(info.assets.dockerImages ?? {}).length) {
    throw new Error(`stack ${info.path}: the raw-app generator does not handle ${[...unknown, ...extraParameters, ...extraRules, ...Object.keys(info.assets.dockerImages ?? {})].join(', ')}`);
  }
  const id = info.path.split('/').pop()!;
  const props: Json = { analyticsReporting: false };
  if (template.Description !== undefined) {
    props.description = template.Description;
  }
  const stackName = info.artifact.properties?.stackName;
  if (stackName !== undefined) {
    props.stackName = stackName;
  }
  if (info.artifact.properties?.terminationProtection) {
    props.terminationProtection = true;
  }
  const lines = [
    `  const ${stackVar} = new Stack(${stageVar}, ${literal(id)}, ${literal(props)});`,
    // Each resource's metadata (its path in the original app included) comes from the template.
    `  ${stackVar}.node.setContext('aws:cdk:enable-path-metadata', false);`,
  ];
  for (const dependency of info.artifact.dependencies ?? []) {
    const other = stackIndex.get(dependency);
    if (other) {
      lines.push(`  ${stackVar}.addStackDependency(${other});`);
    }
  }
  for (const [hash, asset] of Object.entries(info.assets.files ?? {})) {
    if (asset.source.path === info.artifact.properties!.templateFile) {
      continue; // the template itself, added by the synthesizer
    }
    lines.push(`  fileAsset(${stackVar}, ${literal(hash)}, ${literal({ displayName: asset.displayName, source: asset.source })});`);
  }
  // Elements in the order of the template's sections and entries, so the file comes out the same.
  const render: Record<string, (logicalId: string, value: Json) => string> = {
    Mappings: (logicalId, mapping) => `new CfnMapping(${stackVar}, ${literal(logicalId)}, { mapping: ${literal(mapping)} }).overrideLogicalId(${literal(logicalId)});`,
    Conditions: (logicalId, expression) => `new CfnCondition(${stackVar}, ${literal(logicalId)}, { expression: ${literal(expression)} }).overrideLogicalId(${literal(logicalId)});`,
    Resources: (logicalId, { Type: type, Properties: properties, ...attributes }) =>
      `resource(${stackVar}, ${literal(logicalId)}, ${literal(type)}, ${literal(properties ?? {})}, ${literal(attributes)});`,
    Outputs: (logicalId, output) => `output(${stackVar}, ${literal(logicalId)}, ${literal(output)});`,
  };
  for (const [section, entries] of Object.entries(template)) {
    for (const [logicalId, value] of Object.entries(render[section] ? entries as Record<string, Json> : {})) {
      lines.push(`  ${render[section](logicalId, value)}`);
    }
  }
  return lines;
}

/**
 * Writes `app.js` into `dir`: the raw app for the assembly at `assemblyDir`. Asset directories
 * it stages are copied from `assetSourceDir` (a kept copy of the original assembly).
 */
export function writeRawApp(assemblyDir: string, assetSourceDir: string, dir: string): string {
  const stacks = stacksOf(assemblyDir);
  const stackIndex = new Map(stacks.map((s, i) => [s.artifactId, `stack${i}`]));
  const stages = new Map<string, StackInfo[]>();
  for (const info of stacks) {
    const stage = info.path.split('/').slice(0, -1).join('/');
    if (stage.includes('/')) {
      throw new Error(`stack ${info.path}: the raw-app generator handles one level of stages`);
    }
    stages.set(stage, [...(stages.get(stage) ?? []), info]);
  }
  const lines = [
    '// Generated by bench/synth/raw-app.ts from a synthesized assembly: one CfnResource per resource.',
    `const { App, CfnCondition, CfnMapping, CfnOutput, CfnResource, FileAssetPackaging, Stack, Stage } = require(${literal(require.resolve('aws-cdk-lib'))});`,
    "const { cpSync, existsSync } = require('fs');",
    "const { join } = require('path');",
    `const ASSET_SOURCE = ${literal(assetSourceDir)};`,
    '',
    'function resource(stack, logicalId, type, properties, attributes) {',
    '  const resource = new CfnResource(stack, logicalId, { type, properties });',
    '  resource.overrideLogicalId(logicalId);',
    '  for (const [key, value] of Object.entries(attributes)) {',
    '    resource.addOverride(key, value);',
    '  }',
    '}',
    '',
    'function output(stack, logicalId, { Value: value, Description: description, Export: exported, Condition: condition }) {',
    '  const output = new CfnOutput(stack, logicalId, { value, description, exportName: exported?.Name });',
    '  output.overrideLogicalId(logicalId);',
    '  if (condition !== undefined) {',
    '    output.condition = stack.node.findChild(condition);',
    '  }',
    '}',
    '',
    '/** Registers a file asset as staged by the original app; copies its staged directory into this assembly. */',
    'function fileAsset(stack, sourceHash, { displayName, source }) {',
    "  const staged = /^(\\.\\.\\/)*(asset\\.[^/]+)$/.exec(source.path);",
    '  const outdir = stack.node.root.outdir;',
    '  if (staged && !existsSync(join(outdir, staged[2]))) {',
    '    cpSync(join(ASSET_SOURCE, staged[2]), join(outdir, staged[2]), { recursive: true });',
    '  }',
    '  stack.synthesizer.addFileAsset({',
    '    sourceHash, fileName: source.path, displayName, executable: source.executable,',
    "    packaging: source.packaging === 'zip' ? FileAssetPackaging.ZIP_DIRECTORY : FileAssetPackaging.FILE,",
    '  });',
    '}',
    '',
    'const app = new App();',
  ];
  let stageIndex = 0;
  for (const [stage, infos] of stages) {
    const stageVar = stage ? `stage${stageIndex++}` : 'app';
    lines.push('{');
    if (stage) {
      const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(infos[0].artifact.environment ?? '') ?? [];
      const env = {
        ...(account && account !== 'unknown-account' ? { account } : {}),
        ...(region && region !== 'unknown-region' ? { region } : {}),
      };
      lines.push(`  const ${stageVar} = new Stage(app, ${literal(stage)}, { env: ${literal(env)} });`);
    }
    for (const info of infos) {
      lines.push(...stackSource(info, stageVar, stackIndex.get(info.artifactId)!, stackIndex));
    }
    lines.push('}');
  }
  const file = join(dir, 'app.js');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Counts of what an assembly holds. */
export function countResources(assemblyDir: string): { stacks: number; resources: number } {
  const stacks = stacksOf(assemblyDir);
  return { stacks: stacks.length, resources: stacks.reduce((n, s) => n + Object.keys(s.template.Resources as Json).length, 0) };
}

/**
 * The differences between two assemblies' stacks: the set of stacks, each template, each asset
 * manifest, and the stack properties a deployment reads (name, environment, dependencies). Empty
 * when they match.
 */
export function compareAssemblies(expectedDir: string, actualDir: string): string[] {
  const expected = stacksOf(expectedDir);
  const actual = new Map(stacksOf(actualDir).map((s) => [s.path, s]));
  const problems: string[] = [];
  if (expected.length !== actual.size) {
    problems.push(`expected ${expected.length} stacks, got ${actual.size}`);
  }
  for (const want of expected) {
    const got = actual.get(want.path);
    if (!got) {
      problems.push(`stack ${want.path} is missing`);
      continue;
    }
    for (const [what, a, b] of [
      ['artifact id', want.artifactId, got.artifactId],
      ['stack name', want.artifact.properties?.stackName, got.artifact.properties?.stackName],
      ['environment', want.artifact.environment, got.artifact.environment],
      ['dependencies', [...(want.artifact.dependencies ?? [])].sort(), [...(got.artifact.dependencies ?? [])].sort()],
      ['asset manifest', want.assets, got.assets],
    ] as const) {
      if (!isDeepStrictEqual(a, b)) {
        problems.push(`stack ${want.path}: ${what} differs`);
      }
    }
    for (const section of new Set([...Object.keys(want.template), ...Object.keys(got.template)])) {
      const [a, b] = [want.template[section] as Json | undefined, got.template[section] as Json | undefined];
      if (isDeepStrictEqual(a, b)) {
        continue;
      }
      const ids = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].filter((key) => !isDeepStrictEqual(a?.[key], b?.[key]));
      problems.push(`stack ${want.path}: template ${section} differs${typeof a === 'object' ? ` at ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` (+${ids.length - 5})` : ''}` : ''}`);
    }
  }
  return problems;
}
