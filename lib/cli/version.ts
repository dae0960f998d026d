import { readFileSync } from 'fs';
import { dirname, join } from 'path';

/** The package whose version `--version` prints. */
const PACKAGE_NAME = 'modelship';

/**
 * The version of the modelship package this CLI belongs to, from its `package.json`: the nearest
 * one named `modelship` above `from` (`lib/cli` in this repository, `dist/lib/cli` installed).
 * Read with `fs` alone, so `--version` loads nothing else.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }
    }
    const manifest = text === undefined ? undefined : (JSON.parse(text) as { name?: unknown; version?: unknown });
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') {
      return manifest.version;
    }
    if (dirname(dir) === dir) {
      throw new Error(`no package.json of ${PACKAGE_NAME} above ${from}`);
    }
  }
}
