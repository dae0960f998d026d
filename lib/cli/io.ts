import { createInterface } from 'readline/promises';
import { styleText } from 'util';

/**
 * Everything a command does to the outside world besides AWS: output, prompts, time. Only the
 * outer shell (`program.ts`) builds the real one from `process`; tests pass their own.
 */
export interface Io {
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** Whether a person is at a terminal: prompts, spinners and screen refreshes only then. */
  readonly interactive: boolean;
  /** Whether to colour the output: on a terminal, unless `NO_COLOR` is set. Colours only. */
  readonly colour: boolean;
  /** Asks a yes/no question; false unless the answer starts with y. */
  confirm(question: string): Promise<boolean>;
  /** Shows progress on one line (a spinner on a terminal, nothing otherwise). */
  progress(text: string): void;
  /** The current time (epoch ms). */
  now(): number;
  /** Waits. */
  sleep(ms: number): Promise<void>;
}

/** Colours for people: applied only when `io.colour` (a terminal without `NO_COLOR`). */
export function paint(io: Pick<Io, 'colour'>, color: 'green' | 'red' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string): string {
  return io.colour ? styleText(color, text) : text;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The real thing, on the process's streams. */
export function processIo(): Io {
  const interactive = Boolean(process.stdout.isTTY);
  // https://no-color.org: set and not empty means no colours; it says nothing about prompts.
  const colour = interactive && !process.env.NO_COLOR;
  // Output piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      throw error;
    }
  });
  let frame = 0;
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive,
    colour,
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
    progress(text) {
      if (interactive) {
        process.stderr.write(`\r${SPINNER[frame++ % SPINNER.length]} ${text}\u001b[K`);
      }
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
