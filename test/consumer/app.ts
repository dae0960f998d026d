// A separate CDK app that depends on the packed modelship package, as a platform team's would.
import { App, Stack } from 'aws-cdk-lib';
import { ModelRegistry } from 'modelship';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'ConsumerStack');
const registry = new ModelRegistry(stack, 'Registry');
const location: string = registry.artifactLocation('churn', '1.0.0').key;
const assembly = app.synth();
const resources = Object.values(assembly.getStackByName('ConsumerStack').template.Resources as Record<string, { Type: string }>);
const groups = resources.filter((r) => r.Type === 'AWS::SageMaker::ModelPackageGroup').length;
if (groups !== 1 || location !== 'models/churn/1.0.0/output/model.tar.gz') {
  throw new Error(`consumer app synthesized ${groups} model package groups and key ${location}`);
}
process.stdout.write(`consumer app: synthesized ${resources.length} resources from 'modelship'\n`);
