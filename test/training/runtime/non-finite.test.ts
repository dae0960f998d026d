import fc from 'fast-check';
import { findNonFinite, hasCapturingGroup, nonFiniteRegex } from '../../../lib/training/runtime/non-finite';

describe('nonFiniteRegex', () => {
  test.each([
    ['loss=([0-9.]+)', 'epoch 3 loss=nan', true],
    ['loss=([0-9.]+)', 'epoch 3 loss=0.25', false],
    ['loss=([0-9.]+)', 'epoch 3 loss=-inf', true],
    ['loss=([0-9.]+)', 'epoch 3 loss=Infinity', true],
    ['val_loss: ([-+eE0-9.]+);', 'val_loss: NaN;', true],
    ['\\(loss\\)=(\\S+)', '(loss)=nan', true],
    ['[(]x[)] (?:avg )?loss (\\d+\\.\\d+)', '(x) avg loss inf', true],
    ['loss (?P<value>[0-9.]+)', 'loss nan', true],
    ['loss (?<value>[0-9.]+)', 'loss NaN', true],
    ['lr=([0-9.]+)', 'loss=nan lr=0.1', false],
  ])('the variant of %j matches %j: %p', (regex, line, matches) => {
    expect(nonFiniteRegex(regex)?.test(line)).toBe(matches);
  });

  test('has no variant without a capturing group or for an invalid regex', () => {
    expect(nonFiniteRegex('loss=nan')).toBeUndefined();
    expect(nonFiniteRegex('loss=(?:nan)')).toBeUndefined();
    expect(nonFiniteRegex('loss=([0-9.]+')).toBeUndefined();
  });

  test('a regex without a capturing group is recognised', () => {
    expect(hasCapturingGroup('loss=([0-9.]+)')).toBe(true);
    expect(hasCapturingGroup('loss=\\([0-9.]+\\)')).toBe(false);
    expect(hasCapturingGroup('loss=[(][0-9.]+[)]')).toBe(false);
    expect(hasCapturingGroup('(?=x)(?:a)(?<!b)')).toBe(false);
    expect(hasCapturingGroup('(?P<v>x)')).toBe(true);
  });
});

describe('findNonFinite', () => {
  const metrics = [
    { name: 'train:loss', regex: 'train_loss=([0-9.]+)' },
    { name: 'validation:loss', regex: 'val_loss=([0-9.]+)' },
  ];

  test('names the metric and the line where it first became non-finite', () => {
    expect(findNonFinite([
      'step 1 train_loss=0.9 val_loss=1.0',
      'step 2 train_loss=0.8 val_loss=nan ',
      'step 3 train_loss=inf',
    ], metrics)).toEqual({ metric: 'validation:loss', line: 'step 2 train_loss=0.8 val_loss=nan' });
  });

  test('ignores non-finite values of metrics that are not watched', () => {
    expect(findNonFinite(['grad_norm=nan train_loss=0.5'], metrics)).toBeUndefined();
  });

  test('finds nothing while every watched value is a finite number (property)', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 });
    fc.assert(fc.property(fc.array(fc.tuple(finite, finite), { maxLength: 20 }), (steps) => {
      const lines = steps.map(([a, b], i) => `step ${i} train_loss=${a} val_loss=${b}`);
      expect(findNonFinite(lines, metrics)).toBeUndefined();
    }));
  });

  test('finds the first non-finite value wherever it appears (property)', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 });
    const bad = fc.constantFrom('nan', 'NaN', 'inf', '-inf', 'Infinity', '+inf');
    fc.assert(fc.property(fc.array(finite, { minLength: 1, maxLength: 20 }), fc.nat(), bad, (values, at, token) => {
      const index = at % values.length;
      const lines = values.map((v, i) => `step ${i} train_loss=${i === index ? token : v}`);
      expect(findNonFinite(lines, metrics)).toEqual({ metric: 'train:loss', line: lines[index] });
    }));
  });
});
