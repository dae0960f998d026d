// Scans an unpacked modelship package for source maps that point at files it does not ship.
// Every `sourceMappingURL` comment must name a shipped map, and every source a map names must
// either be a shipped file or carry its content (sourcesContent) under a URL that is no file
// path. Usage: node source-maps.js <package folder>; exits 1 listing what is wrong.
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

interface SourceMap { readonly sourceRoot?: string; readonly sources: readonly string[]; readonly sourcesContent?: ReadonlyArray<string | null> }

const root = resolve(process.argv[2]);
const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? files(path) : [path];
});
const all = files(root);
const problems: string[] = [];
const shipped = (path: string) => path.startsWith(`${root}/`) && existsSync(path);

for (const js of all.filter((path) => path.endsWith('.js'))) {
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(js, 'utf8'))?.[1];
  if (url !== undefined && !shipped(resolve(dirname(js), url))) {
    problems.push(`${relative(root, js)} points at ${url}, which the package does not ship`);
  }
}
const maps = all.filter((path) => path.endsWith('.map'));
for (const mapPath of maps) {
  const map = JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMap;
  map.sources.forEach((source, i) => {
    const isUrl = /^[a-z][a-z0-9+.-]*:/i.test(source) && !source.startsWith('file:');
    const embedded = typeof map.sourcesContent?.[i] === 'string';
    if (!(isUrl && embedded) && !shipped(resolve(dirname(mapPath), map.sourceRoot ?? '', source))) {
      problems.push(`${relative(root, mapPath)} names ${source}, which the package neither ships nor embeds`);
    }
  });
}
if (maps.length === 0 || problems.length > 0) {
  process.stderr.write(`${maps.length} source maps; ${problems.length} problems:\n${problems.slice(0, 20).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`consumer check: ${maps.length} source maps in the package, each source shipped or embedded\n`);
