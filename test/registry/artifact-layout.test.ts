import { modelArtifactKey, modelPrefix } from '../../lib/registry/artifact-layout';

describe('model artifact layout', () => {
  test.each([
    ['churn', '1.4.0', 'models/churn/1.4.0/output/model.tar.gz'],
    ['fraud-detector-v2', '2026-11-22_a1b2c3', 'models/fraud-detector-v2/2026-11-22_a1b2c3/output/model.tar.gz'],
    ['x', '7', 'models/x/7/output/model.tar.gz'],
    ['ranker', '1.0.0+build.5', 'models/ranker/1.0.0+build.5/output/model.tar.gz'],
  ])('places %s version %s at %s', (model, version, key) => {
    expect(modelArtifactKey(model, version)).toBe(key);
  });

  test('gives the prefix that holds every version of a model', () => {
    expect(modelPrefix('churn')).toBe('models/churn/');
  });

  test.each([
    ['', "'model' must be 1-63 lowercase letters"],
    ['Churn', "got 'Churn'"],
    ['churn/../other', "got 'churn/../other'"],
    ['-churn', "got '-churn'"],
    ['churn-', "got 'churn-'"],
    ['a'.repeat(64), "'model' must be 1-63"],
    ['my model', "got 'my model'"],
  ])('rejects the model name %j', (model, message) => {
    expect(() => modelArtifactKey(model, '1')).toThrow(message);
    expect(() => modelPrefix(model)).toThrow(message);
  });

  test.each([
    ['', "'version' must be 1-128 letters"],
    ['1..2', "got '1..2'"],
    ['v1/latest', "got 'v1/latest'"],
    ['.hidden', "got '.hidden'"],
    ['1.0.', "got '1.0.'"],
    ['1 0', "got '1 0'"],
    ['v'.repeat(129), "'version' must be 1-128"],
  ])('rejects the version %j', (version, message) => {
    expect(() => modelArtifactKey('churn', version)).toThrow(message);
  });

  test('names every invalid part in one error', () => {
    expect(() => modelArtifactKey('Bad', '..')).toThrow(/'model' must be .*\n.*'version' must be/);
  });
});
