import { RefreshingValue } from '../../../lib/hooks/runtime/refreshing-value';

describe('RefreshingValue', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 0;
  });

  test('loads once for concurrent first callers and serves from memory until the time-to-live passes', async () => {
    const load = jest.fn().mockResolvedValueOnce('a').mockResolvedValueOnce('b');
    const value = new RefreshingValue(load, 1000, now);
    expect(await Promise.all([value.get(), value.get()])).toEqual(['a', 'a']);
    clock = 999;
    expect(await value.get()).toBe('a');
    expect(load).toHaveBeenCalledTimes(1);
  });

  test('refreshes in the background after the time-to-live, serving the old value meanwhile', async () => {
    let release!: (v: string) => void;
    const load = jest.fn().mockResolvedValueOnce('a').mockImplementationOnce(() => new Promise((resolve) => {
      release = resolve;
    }));
    const value = new RefreshingValue(load, 1000, now);
    await value.get();
    clock = 1000;
    expect(await value.get()).toBe('a');
    expect(await value.get()).toBe('a');
    expect(load).toHaveBeenCalledTimes(2);
    release('b');
    await new Promise(setImmediate);
    expect(await value.get()).toBe('b');
  });

  test('keeps the last value when a refresh fails, and reports the failure', async () => {
    const errors: unknown[] = [];
    const load = jest.fn().mockResolvedValueOnce('a').mockRejectedValueOnce(new Error('throttled')).mockResolvedValueOnce('c');
    const value = new RefreshingValue(load, 1000, now, (e) => errors.push(e));
    await value.get();
    clock = 2000;
    expect(await value.get()).toBe('a');
    await new Promise(setImmediate);
    expect(errors).toEqual([new Error('throttled')]);
    expect(await value.get()).toBe('a');
    await new Promise(setImmediate);
    expect(await value.get()).toBe('c');
  });

  test('retries a first load that failed on the next call', async () => {
    const load = jest.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValueOnce('a');
    const value = new RefreshingValue(load, 1000, now);
    await expect(value.get()).rejects.toThrow('down');
    expect(await value.get()).toBe('a');
  });
});
