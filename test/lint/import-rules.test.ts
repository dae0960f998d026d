import { execFileSync } from 'child_process';
import { join } from 'path';

// The import rules of eslint.config.mjs, checked on planted imports: each case lints a file that
// does not exist at a path where the rule applies. ESLint's config is an ES module, so the cases run
// in one child Node process through ESLint's API.
const repo = join(__dirname, '..', '..');

interface Finding { readonly file: string; readonly messages: string[] }

function lint(cases: ReadonlyArray<readonly [file: string, code: string]>): Finding[] {
  const script = `
    import { ESLint } from 'eslint';
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const [file, code] of JSON.parse(process.argv[1])) {
      const [result] = await eslint.lintText(code, { filePath: file });
      out.push({ file, messages: result.messages.map((m) => m.ruleId + ': ' + m.message) });
    }
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], { cwd: repo, encoding: 'utf8' }));
}

describe('the import rules', () => {
  const forbidden = [
    ['lambda/gateway-invoke/planted.ts', "import { InferenceGateway } from '../../lib/hooks/inference-gateway';\nexport const x = InferenceGateway;\n"],
    ['lib/cli/commands/planted.ts', "import { HandlerFunction } from '../../private/handler-function';\nexport const x = HandlerFunction;\n"],
    ['lib/hooks/runtime/planted.ts', "import { Duration } from 'aws-cdk-lib';\nexport const x = Duration;\n"],
    ['lib/training/runtime/planted.ts', "import * as s3 from 'aws-cdk-lib/aws-s3';\nexport const x = s3;\n"],
    ['lib/serving/runtime/planted.ts', "import { Construct } from 'constructs';\nexport const x = Construct;\n"],
    ['lib/release/planted.ts', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const x = DynamoDBClient;\n"],
    ['lib/release/planted.ts', "import { ModelEndpoint } from '../serving/model-endpoint';\nexport const x = ModelEndpoint;\n"],
    ['lib/serving/planted.ts', "import { handler } from '../../lambda/endpoint-check';\nexport const x = handler;\n"],
    ['test/planted.test.ts', "import '../bin/app';\n"],
    ['lib/release/planted.ts', "import { RolloutStore } from '../hooks/runtime/rollout-store';\nexport const x = RolloutStore;\n"],
    ['lib/cli/commands/planted.ts', "export const load = () => import('aws-cdk-lib');\n"],
    ['lambda/gateway-invoke/planted.ts', "// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const s3 = require('aws-cdk-lib/aws-s3');\n"],
    ['lib/hooks/runtime/planted.ts', "import { AwsSolutionsChecks } from 'cdk-nag';\nexport const x = AwsSolutionsChecks;\n"],
  ] as const;
  const allowed = [
    ['lambda/gateway-invoke/planted.ts', "import { decide } from '../../lib/release/decide';\nexport const x = decide;\n"],
    ['lib/cli/commands/planted.ts', "import { RolloutStore } from '../../hooks/runtime/rollout-store';\nexport const x = RolloutStore;\n"],
    ['lib/release/planted.ts', "import { ModelshipError } from '../runtime/errors';\nexport const x = ModelshipError;\n"],
    ['lib/serving/planted.ts', "import { judgeDeploy } from './runtime/endpoint-health';\nimport { Duration } from 'aws-cdk-lib';\nexport const x = [judgeDeploy, Duration];\n"],
  ] as const;
  let findings: Finding[];
  beforeAll(() => {
    findings = lint([...forbidden, ...allowed]);
  });

  test('fails the lint on every planted forbidden import', () => {
    const failed = findings.slice(0, forbidden.length);
    expect(failed).toHaveLength(13);
    for (const finding of failed) {
      expect(finding.messages).toEqual([expect.stringMatching(/^(import-x\/no-restricted-paths|no-restricted-imports|no-restricted-syntax): /)]);
    }
  });

  test('names the rule that was broken', () => {
    expect(findings[0].messages[0]).toContain('lambda/ and lib/cli/ import only runtime code');
    expect(findings[2].messages[0]).toContain('must not load aws-cdk-lib');
    expect(findings[5].messages[0]).toContain('lib/release is pure release logic: no AWS SDK');
    expect(findings[7].messages[0]).toContain('constructs reference handler code by path');
    expect(findings[8].messages[0]).toContain('nothing imports from it');
    expect(findings[9].messages[0]).toContain('it imports no SDK adapter');
    expect(findings[10].messages[0]).toContain('must not load synth-time packages');
    expect(findings[11].messages[0]).toContain('must not load synth-time packages');
    expect(findings[12].messages[0]).toContain('must not load cdk-nag');
  });

  test('lets runtime code, lib/release and constructs import what they may', () => {
    const passed = findings.slice(forbidden.length);
    expect(passed).toHaveLength(4);
    expect(passed.flatMap((f) => f.messages)).toEqual([]);
  });
});
