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

  describe('asked for a value loaded since a moment (a key version it has not seen)', () => {
    const sleeps: number[] = [];
    const pacing = {
      minIntervalMs: 1000,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
      },
    };
    beforeEach(() => {
      sleeps.length = 0;
    });

    test('serves the held value when its load started since then, else loads again', async () => {
      const load = jest.fn().mockResolvedValueOnce('a').mockResolvedValueOnce('b');
      const value = new RefreshingValue(load, 60_000, now, undefined, pacing);
      clock = 100;
      await value.get();
      expect(await value.loadedSince(100)).toBe('a');
      clock = 5000;
      expect(await value.loadedSince(4000)).toBe('b');
      expect(await value.get()).toBe('b');
      expect(load).toHaveBeenCalledTimes(2);
      expect(sleeps).toEqual([]);
    });

    test('does not take a load that started before the moment: waits for it, then loads again', async () => {
      let release!: (v: string) => void;
      const load = jest.fn().mockImplementationOnce(() => new Promise((resolve) => {
        release = resolve;
      })).mockResolvedValueOnce('b');
      const value = new RefreshingValue(load, 60_000, now, undefined, pacing);
      const first = value.get();
      clock = 2000;
      const since = value.loadedSince(2000);
      release('a');
      expect(await first).toBe('a');
      expect(await since).toBe('b');
      expect(load).toHaveBeenCalledTimes(2);
    });

    test('paces the loads: a flood of callers within the interval shares one load, started once the last is an interval old', async () => {
      const load = jest.fn().mockImplementation(async () => `v${clock}`);
      const value = new RefreshingValue(load, 60_000, now, undefined, pacing);
      await value.get();
      clock = 300;
      const answers = await Promise.all(Array.from({ length: 50 }, () => value.loadedSince(300)));
      expect(new Set(answers)).toEqual(new Set(['v1000']));
      expect(load).toHaveBeenCalledTimes(2);
      expect(sleeps[0]).toBe(700);
    });

    test('rejects when that load fails, keeping the held value', async () => {
      const load = jest.fn().mockResolvedValueOnce('a').mockRejectedValueOnce(new Error('throttled'));
      const value = new RefreshingValue(load, 60_000, now, undefined, pacing);
      await value.get();
      clock = 5000;
      await expect(value.loadedSince(5000)).rejects.toThrow('throttled');
      expect(await value.get()).toBe('a');
    });
  });
});
