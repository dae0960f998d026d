/** Exit codes: what a script can tell apart. */
export const EXIT = {
  OK: 0,
  /** An unexpected failure (AWS unreachable, an error nobody anticipated). */
  FAILED: 1,
  /** Bad input: unknown endpoint or variant, bad weights, a malformed file. Nothing changed. */
  USAGE: 2,
  /** Refused: the endpoint is not InService, the rollout is in the wrong phase, or a person said no. Nothing changed. */
  REFUSED: 3,
  /** The rollout changed since it was read (by the controller or another person). Nothing changed. */
  CONFLICT: 4,
  /** Timed out: a change was made but the endpoint did not return to InService in time, or `status --timeout` found the rollout still progressing. */
  TIMEOUT: 5,
  /** `status --timeout`: the rollout is paused or awaits approval (a person decides). */
  PAUSED: 6,
  /** `status --timeout`: the rollout was aborted, or the endpoint failed. */
  DEGRADED: 7,
} as const;

/** A failure the CLI explains to the user and ends with its exit code. */
export class CliError extends Error {
  constructor(public readonly exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
  }
}
