// A separate CDK app that depends on the packed modelship package, as a platform team's would:
// a registry, a training pipeline and an inference gateway whose handlers deploy from the
// package's ready bundles (the app has no esbuild to bundle anything with).
import { readdirSync, readFileSync } from 'fs';
import { dirname, join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ContainerImage, InferenceGateway, ModelEndpoint, ModelRegistry, TrainingInstanceType, TrainingPipeline } from 'modelship';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'ConsumerStack');
const registry = new ModelRegistry(stack, 'Registry');
new TrainingPipeline(stack, 'Training', {
  model: 'churn',
  registry,
  image: ContainerImage.fromImageUri('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311'),
  instanceType: TrainingInstanceType.G5_2XLARGE,
  inputs: [{ channelName: 'train', bucket: s3.Bucket.fromBucketName(stack, 'Data', 'team-datasets'), prefix: 'churn/' }],
  metrics: [{ name: 'train:loss', regex: 'loss=([0-9.]+)', failOnNonFinite: true }],
});
new InferenceGateway(stack, 'Gateway', {
  endpoint: ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] }),
});
const location: string = registry.artifactLocation('churn', '1.0.0').key;
const assembly = app.synth();
const resources = Object.values(assembly.getStackByName('ConsumerStack').template.Resources as Record<string, { Type: string }>);
const count = (type: string) => resources.filter((r) => r.Type === type).length;
// Two training handlers, the gateway's two, its key rotation and the log shipper.
const FUNCTIONS = 6;
if (count('AWS::SageMaker::ModelPackageGroup') !== 1 || count('AWS::Lambda::Function') !== FUNCTIONS || count('AWS::ApiGatewayV2::Api') !== 1
  || location !== 'models/churn/1.0.0/output/model.tar.gz') {
  throw new Error(`consumer app synthesized unexpected resources: ${resources.map((r) => r.Type).join(', ')}`);
}
// Each function's code asset is one of the package's bundles, byte for byte.
const bundleDir = join(dirname(require.resolve('modelship/package.json')), 'dist', 'lambda');
const bundles = new Set(readdirSync(bundleDir).map((hook) => readFileSync(join(bundleDir, hook, 'index.js'), 'utf8')));
const staged = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'))
  .filter((name) => readdirSync(join(assembly.directory, name)).includes('index.js'))
  .map((name) => readFileSync(join(assembly.directory, name, 'index.js'), 'utf8'));
if (staged.length !== FUNCTIONS || !staged.every((code) => bundles.has(code))) {
  throw new Error(`expected the ${FUNCTIONS} functions' code to be ${FUNCTIONS} of the package's ${bundles.size} bundles, found ${staged.length} code assets`);
}
process.stdout.write(`consumer check: synthesized ${resources.length} resources from 'modelship', the handlers from its ready bundles\n`);
