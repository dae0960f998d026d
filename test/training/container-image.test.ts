import { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ContainerImage } from '../../lib';
import { problemsOf, testStack } from '../helpers';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const RULE = "an immutable tag (1-128 letters, digits, '.', '_' and '-', not 'latest') or a digest ('sha256:' and 64 hex digits)";

describe('ContainerImage from an ECR repository', () => {
  const stack: Stack = testStack();
  const repository = new ecr.Repository(stack, 'Images');
  const uri = (image: ContainerImage) => JSON.stringify(stack.resolve(image.imageUri));

  test('references a tag or a digest', () => {
    expect(uri(ContainerImage.fromEcrRepository(repository, 'v1.2.0'))).toMatch(/\/",\{"Ref":"Images[0-9A-F]{8}"\},":v1\.2\.0"\]/);
    expect(uri(ContainerImage.fromEcrRepository(repository, DIGEST))).toContain(`"@${DIGEST}"`);
  });

  test.each([
    ['latest', "'latest'"],
    ['', "''"],
    ['v 1', "'v 1'"],
    ['-v1', "'-v1'"],
    ['x'.repeat(129), `'${'x'.repeat(129)}'`],
    ['sha256:abc', "'sha256:abc'"],
    [`sha256:${'A'.repeat(64)}`, `'sha256:${'A'.repeat(64)}'`],
  ])('refuses %j, which does not pin one image', (reference, shown) => {
    expect(problemsOf(() => ContainerImage.fromEcrRepository(repository, reference)))
      .toEqual([`'tagOrDigest' must name ${RULE}, got ${shown}`]);
  });

  test('accepts a tag known only at deploy time', () => {
    expect(() => ContainerImage.fromEcrRepository(repository, ecr.Repository.fromRepositoryName(stack, 'Other', 'other').repositoryName)).not.toThrow();
  });
});

describe('ContainerImage by URI', () => {
  test.each([
    '763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311',
    'registry.example.com:5000/team/serve:1',
    `registry.example.com:5000/team/serve@${DIGEST}`,
  ])('accepts %s', (imageUri) => {
    expect(ContainerImage.fromImageUri(imageUri).imageUri).toBe(imageUri);
  });

  test.each([
    ['763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:latest', "'763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:latest'"],
    ['registry.example.com:5000/team/serve', "'registry.example.com:5000/team/serve', without a tag or digest (Docker pulls 'latest')"],
    ['serve@sha256:short', "'serve@sha256:short'"],
  ])('refuses %s, which does not pin one image', (imageUri, shown) => {
    expect(problemsOf(() => ContainerImage.fromImageUri(imageUri))).toEqual([`'imageUri' must name ${RULE}, got ${shown}`]);
  });
});
