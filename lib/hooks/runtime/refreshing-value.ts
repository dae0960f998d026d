/**
 * A value read from somewhere slow, kept for a time-to-live and then refreshed in the
 * background: callers wait only for the very first read, and a failed refresh keeps the last
 * value (a first read that fails is retried by the next caller). Pure: the loader and the
 * clock come in.
 */
export class RefreshingValue<T> {
  private value?: T;
  private loadedAt = -Infinity;
  private inFlight?: Promise<T>;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly onRefreshError: (error: unknown) => void = () => undefined,
  ) {}

  /** The value, waiting only when there is none yet. */
  public async get(): Promise<T> {
    if (this.now() - this.loadedAt >= this.ttlMs && !this.inFlight) {
      this.inFlight = this.load().then((value) => {
        this.value = value;
        this.loadedAt = this.now();
        return value;
      }).finally(() => {
        this.inFlight = undefined;
      });
      if (this.value !== undefined) {
        this.inFlight.catch(this.onRefreshError);
      }
    }
    if (this.value !== undefined) {
      return this.value;
    }
    return this.inFlight!;
  }
}
