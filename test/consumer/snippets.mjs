// Extracts every ```ts block of README.md and docs/**/*.md (not the generated docs/api) into its
// own file, so the consumer check can compile each against the packed package and run those that
// build a CDK app. Usage: node snippets.mjs <repo> <out dir>; prints one JSON line per snippet.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [repo, out] = process.argv.slice(2);
const docs = ['README.md'];
const walk = (dir) => readdirSync(join(repo, dir), { withFileTypes: true }).forEach((entry) => {
  const path = join(dir, entry.name);
  if (entry.isDirectory() && path !== join('docs', 'api')) {
    walk(path);
  } else if (entry.isFile() && entry.name.endsWith('.md')) {
    docs.push(path);
  }
});
walk('docs');
mkdirSync(out, { recursive: true });
for (const doc of docs.sort()) {
  const lines = readFileSync(join(repo, doc), 'utf8').split('\n');
  let start = -1;
  lines.forEach((line, i) => {
    if (start < 0 && /^```(ts|typescript)\s*$/.test(line)) {
      start = i;
    } else if (start >= 0 && /^```\s*$/.test(line)) {
      const code = lines.slice(start + 1, i).join('\n');
      const file = `${doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${start + 1}.ts`;
      writeFileSync(join(out, file), `${code}\n`);
      process.stdout.write(`${JSON.stringify({ file, doc, line: start + 1, synth: /\bnew (cdk\.)?App\(/.test(code) })}\n`);
      start = -1;
    }
  });
}
