import { ModelshipError } from '../../lib/runtime/errors';
import { TrainingInstanceType } from '../../lib/training/training-instance-type';

describe('TrainingInstanceType', () => {
  test.each([
    [TrainingInstanceType.G5_2XLARGE, 'ml.g5.2xlarge', 'g5'],
    [TrainingInstanceType.P4DE_24XLARGE, 'ml.p4de.24xlarge', 'p4de'],
    [TrainingInstanceType.P5E_48XLARGE, 'ml.p5e.48xlarge', 'p5e'],
    [TrainingInstanceType.TRN1_32XLARGE, 'ml.trn1.32xlarge', 'trn1'],
    [TrainingInstanceType.G6E_XLARGE, 'ml.g6e.xlarge', 'g6e'],
  ])('%s is an accelerated type of family %s', (type, name, family) => {
    expect(type.name).toBe(name);
    expect(type.family).toBe(family);
    expect(type.accelerated).toBe(true);
  });

  test('of() accepts any well-formed name and knows CPU families', () => {
    expect(TrainingInstanceType.of('ml.p5.48xlarge').accelerated).toBe(true);
    expect(TrainingInstanceType.of('ml.m5.xlarge').accelerated).toBe(false);
    expect(TrainingInstanceType.of('ml.c7i.48xlarge').family).toBe('c7i');
    expect(`${TrainingInstanceType.of('ml.g6.4xlarge')}`).toBe('ml.g6.4xlarge');
  });

  test.each(['g5.2xlarge', 'ml.g5', 'ml.G5.2xlarge', 'ml.g5.2xl', 'ml..large', 'ml.g5.2xlarge '])('rejects %j with the valid pattern', (name) => {
    expect(() => TrainingInstanceType.of(name)).toThrow(ModelshipError);
    expect(() => TrainingInstanceType.of(name))
      .toThrow(`'instanceType' must match ml.<family>.<size> (for example ml.g5.2xlarge), got '${name}'`);
  });
});
