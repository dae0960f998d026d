import { readFileSync } from 'fs';
import * as ts from 'typescript';
import * as modelship from '../lib';

describe("the package's public API", () => {
  test('exports exactly the public names at run time, nothing internal', () => {
    expect(Object.keys(modelship).sort()).toEqual([
      'ContainerImage',
      'DeploymentStrategy',
      'EndpointModel',
      'GatewayAuth',
      'InferenceGateway',
      'InferenceGatewayBase',
      'InferenceInstanceType',
      'InferenceLogStore',
      'InferenceLogStoreBase',
      'ModelEndpoint',
      'ModelEndpointBase',
      'ModelPackageGroup',
      'ModelPackageGroupBase',
      'ModelRegistry',
      'ModelRegistryBase',
      'ModelshipError',
      'ModelshipStage',
      'ReleaseController',
      'ReleaseControllerBase',
      'RolloutPolicy',
      'TrafficOwnership',
      'TrafficSize',
      'TrainingInstanceType',
      'TrainingPipeline',
      'TrainingPipelineBase',
      'addEnvironmentStages',
      'parseEnvironments',
    ]);
  });
});

/** The files the public API is exported from (lib/index.ts's re-exports): their exported interfaces are held to the documentation rules. */
const PUBLIC_FILES = [...new Set([...readFileSync('lib/index.ts', 'utf8').matchAll(/from '\.\/([^']+)'/g)].map(([, path]) => `lib/${path}.ts`))].sort();

/** Each member of an exported interface that breaks a rule: a one-line description, `@default` exactly on optional members. */
function documentationProblems(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      return;
    }
    for (const member of node.members.filter(ts.isPropertySignature)) {
      const where = `${file} ${node.name.text}.${member.name.getText(source)}`;
      const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
      const description = docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join('').trim();
      const defaults = ts.getJSDocTags(member).filter((tag) => tag.tagName.text === 'default');
      if (description === '') {
        problems.push(`${where} has no description`);
      }
      if (member.questionToken && !defaults.some((tag) => /^(- \S|[^-\s])/.test(ts.getTextOfJSDocComment(tag.comment) ?? ''))) {
        problems.push(`${where} is optional without '@default <literal>' or '@default - <what happens>'`);
      }
      if (!member.questionToken && defaults.length > 0) {
        problems.push(`${where} is required but has a @default`);
      }
    }
  });
  return problems;
}

describe('the documentation of props, options and attributes', () => {
  const files = PUBLIC_FILES;

  test('describes every member and states the default of every optional one', () => {
    expect(files).toHaveLength(25);
    expect(files.flatMap((file) => documentationProblems(file))).toEqual([]);
  });

  test('notices a member without a description, an optional one without its default, a required one with a default', () => {
    const probe = [
      'export interface ProbeProps {',
      '  readonly bare?: string;',
      '  /** Described. @default - nothing happens */',
      '  readonly inline?: number;',
      '  /**',
      '   * Described.',
      '   * @default -',
      '   */',
      '  readonly dash?: number;',
      '  /**',
      '   * Required.',
      '   * @default 2',
      '   */',
      '  readonly required: number;',
      '}',
      'interface Internal {',
      '  readonly skipped?: string;',
      '}',
    ].join('\n');
    expect(documentationProblems('probe.ts', probe)).toEqual([
      'probe.ts ProbeProps.bare has no description',
      "probe.ts ProbeProps.bare is optional without '@default <literal>' or '@default - <what happens>'",
      "probe.ts ProbeProps.dash is optional without '@default <literal>' or '@default - <what happens>'",
      'probe.ts ProbeProps.required is required but has a @default',
    ]);
  });
});
