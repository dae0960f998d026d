/**
 * Bundles every Lambda hook (`lambda/<hook>/index.ts`) into `dist/lambda/<hook>/index.js`, the
 * ready asset that `HandlerFunction` deploys and the package ships, so neither the repository's
 * synth nor a consumer's needs esbuild or the handlers' SDK clients. Run: `npm run bundle`
 * (the package build runs it; tests, synth and benches run `bundleIfStale`, which skips the work
 * when every bundle is newer than every source and the installed dependencies).
 *
 * Each bundle is minified CommonJS for Node.js 24 with the AWS SDK inside at the pinned version
 * (never the runtime's copy), ES modules resolved first so esbuild drops the SDK commands a hook
 * never sends, and the SDK's default credential chain replaced by the environment-only provider
 * (`lambda/shared/environment-credentials.ts`: Lambda passes credentials in environment
 * variables). Its source map embeds the sources, and names them `modelship:///<path in the
 * repository>`, a name no tool mistakes for a file beside the bundle.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { join, relative } from 'path';
import { build } from 'esbuild';

/** The repository root. */
const ROOT = join(__dirname, '..');
/** Where the bundles go: one folder per hook, the folder `HandlerFunction` deploys. */
export const BUNDLE_DIR = join(ROOT, 'dist', 'lambda');
/** The URL scheme of the sources named in the bundles' source maps. */
export const SOURCE_SCHEME = 'modelship:///';
/** The hooks on the request path of a prediction, whose bundles must stay small for cold starts. */
export const REQUEST_PATH_HOOKS: readonly string[] = ['gateway-invoke', 'gateway-outcome'];
/** The largest bundle a request-path hook may have. */
export const REQUEST_PATH_LIMIT_KIB = 300;

/** Every hook: each folder of `lambda/` with an `index.ts`. */
export function hooks(): string[] {
  const lambdaDir = join(ROOT, 'lambda');
  return readdirSync(lambdaDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(lambdaDir, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** A source map's `sources` renamed from paths relative to the map to `modelship:///<path from the root>`. */
function renameSources(map: string, mapDir: string): string {
  const parsed = JSON.parse(map) as { sources: string[] };
  parsed.sources = parsed.sources.map((source) => `${SOURCE_SCHEME}${relative(ROOT, join(mapDir, source)).split('\\').join('/')}`);
  return JSON.stringify(parsed);
}

/** Bundles one hook into `dist/lambda/<hook>/`. */
async function bundleHook(hook: string): Promise<void> {
  const outdir = join(BUNDLE_DIR, hook);
  const result = await build({
    entryPoints: [join(ROOT, 'lambda', hook, 'index.ts')],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: [],
    alias: { '@aws-sdk/credential-provider-node': join(ROOT, 'lambda', 'shared', 'environment-credentials.ts') },
    sourcemap: 'linked',
    sourcesContent: true,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    write: false,
  });
  mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    writeFileSync(file.path, file.path.endsWith('.map') ? renameSources(file.text, outdir) : file.contents);
  }
}

/** Bundles every hook. */
export async function bundleAll(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await Promise.all(hooks().map(bundleHook));
}

/** The latest modification time (ms) of a file, or of any file below a folder. */
function newestMtimeMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    return stat.mtimeMs;
  }
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

/**
 * Whether some bundle is missing or older than something it is built from: the handlers and
 * the runtime code (`lambda/`, `lib/`) or the installed dependencies (npm rewrites
 * `node_modules/.package-lock.json` on every install).
 */
export function bundlesAreStale(): boolean {
  const inputs = Math.max(...['lambda', 'lib', join('node_modules', '.package-lock.json')]
    .map((path) => join(ROOT, path))
    .filter((path) => existsSync(path))
    .map(newestMtimeMs));
  return hooks().some((hook) => {
    const bundle = join(BUNDLE_DIR, hook, 'index.js');
    return !existsSync(bundle) || statSync(bundle).mtimeMs < inputs;
  });
}

/** Bundles every hook unless every bundle is up to date. */
export async function bundleIfStale(): Promise<void> {
  if (bundlesAreStale()) {
    await bundleAll();
  }
}

if (require.main === module) {
  (process.argv.includes('--if-stale') ? bundleIfStale() : bundleAll()).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
