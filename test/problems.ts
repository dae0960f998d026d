import { ModelshipError } from '../lib/runtime/errors';

/** The problems of the ModelshipError that `build` throws; fails the test when it throws none. */
export function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelshipError);
    return (e as ModelshipError).problems;
  }
  throw new Error('expected a ModelshipError');
}
