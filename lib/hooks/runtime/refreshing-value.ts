/** How `RefreshingValue` paces the loads a caller asks for (`loadedSince`). */
export interface ReloadPacing {
  /** The least time between the starts of two loads asked for by callers. */
  readonly minIntervalMs: number;
  /** Waits the time given (a test's clock moves instead). @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A value read from somewhere slow, kept for a time-to-live and then refreshed in the
 * background: callers wait only for the very first read, and a failed refresh keeps the last
 * value (a first read that fails is retried by the next caller). A caller that knows the value
 * changed (a key version it has not seen) asks for one loaded since a moment (`loadedSince`):
 * such loads are shared and paced, so a flood of such requests costs one load per interval.
 * Pure: the loader, the clock and the wait come in.
 */
export class RefreshingValue<T> {
  private value?: T;
  /** When the load of the value started. */
  private valueFrom = -Infinity;
  private loadedAt = -Infinity;
  private lastStartedAt = -Infinity;
  private inFlight?: { readonly promise: Promise<T>; readonly startedAt: number };

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly onRefreshError: (error: unknown) => void = () => undefined,
    private readonly pacing: ReloadPacing = { minIntervalMs: 0 },
  ) {}

  /** The value, waiting only when there is none yet. */
  public async get(): Promise<T> {
    if (this.now() - this.loadedAt >= this.ttlMs && !this.inFlight) {
      const started = this.start();
      if (this.value !== undefined) {
        started.catch(this.onRefreshError);
      }
    }
    if (this.value !== undefined) {
      return this.value;
    }
    return this.inFlight!.promise;
  }

  /**
   * A value whose load started at `sinceMs` or later: the held one if it qualifies, else the
   * load in flight if it does, else a new load, started once the previous caller-asked load is
   * `minIntervalMs` old. Rejects when that load fails (the held value stays).
   */
  public async loadedSince(sinceMs: number): Promise<T> {
    for (;;) {
      if (this.value !== undefined && this.valueFrom >= sinceMs) {
        return this.value;
      }
      const flight = this.inFlight;
      if (flight && flight.startedAt >= sinceMs) {
        return flight.promise;
      }
      if (flight) {
        await flight.promise.catch(() => undefined);
        continue;
      }
      const wait = this.lastStartedAt + this.pacing.minIntervalMs - this.now();
      if (wait > 0) {
        await (this.pacing.sleep ?? timer)(wait);
        continue;
      }
      return this.start();
    }
  }

  private start(): Promise<T> {
    const startedAt = this.now();
    this.lastStartedAt = startedAt;
    const promise = this.load().then((value) => {
      if (startedAt >= this.valueFrom) {
        this.value = value;
        this.valueFrom = startedAt;
        this.loadedAt = this.now();
      }
      return value;
    }).finally(() => {
      if (this.inFlight?.promise === promise) {
        this.inFlight = undefined;
      }
    });
    this.inFlight = { promise, startedAt };
    return promise;
  }
}
