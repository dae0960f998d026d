#!/usr/bin/env bash
# Packs modelship as npm would publish it and installs the tarball into a throw-away CDK app
# outside the repository with npm, as a consumer would: the app gets aws-cdk-lib, constructs,
# TypeScript and @types/node plus what modelship declares, and nothing else (no esbuild, no
# handler SDK clients). It type-checks the app against the published declarations, synthesizes
# it, runs the packed CLI, and checks that no source map in the tarball points at a missing file.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
# `npm pack` builds first (prepack: bundle the handlers, compile lib/ and the CLI).
npm pack --silent --pack-destination "$work" > "$work/pack.out"
tarball="$work/$(tail -n 1 "$work/pack.out")"
mkdir -p "$work/package" "$work/app"
tar -xzf "$tarball" -C "$work/package" --strip-components=1
version() { node -p "require('$repo/node_modules/$1/package.json').version"; }

cp test/consumer/app.ts test/consumer/source-maps.ts "$work/app/"
cd "$work/app"
echo '{ "name": "consumer", "version": "1.0.0", "private": true }' > package.json
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
  "strict": true, "skipLibCheck": true, "types": ["node"], "outDir": "out" }, "files": ["app.ts", "source-maps.ts"] }
JSON
# From the npm cache that `npm ci` filled; the registry only for what it lacks.
npm install --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error "$tarball" \
  "aws-cdk-lib@$(version aws-cdk-lib)" "constructs@$(version constructs)" "typescript@$(version typescript)" "@types/node@$(version @types/node)"

# What the consumer must not need: esbuild and whatever only the bundled handlers use.
absent=(esbuild $(node -p "Object.keys(require('$repo/package.json').devDependencies).filter((d) => /^@aws-sdk\/client-|^@aws-lambda-powertools\//.test(d)).join(' ')"))
[ "${#absent[@]}" -ge 10 ] || { echo "consumer check: expected esbuild and the handlers' SDK clients to check, found ${absent[*]}"; exit 1; }
for dep in "${absent[@]}"; do
  status=0
  node -e "try { require.resolve(process.argv[1]) } catch (e) { process.exit(e.code === 'MODULE_NOT_FOUND' ? 3 : 1) }" "$dep" || status=$?
  [ "$status" -eq 3 ] || { echo "consumer check: '$dep' resolves in the consumer app; modelship must not need it"; exit 1; }
done
echo "consumer check: ${#absent[@]} packages absent from the app, esbuild among them: ${absent[*]}"

node_modules/.bin/tsc -p tsconfig.json
node out/app.js "$work/cdk.out"
# The packed CLI, as `npx modelship` would run it.
node_modules/.bin/modelship --help | grep -q 'modelship status churn-ab'
test "$(node_modules/.bin/modelship --version)" = "$(node -p "require('modelship/package.json').version")"
echo "consumer check: the packed modelship CLI answers --help and --version"
node out/source-maps.js "$work/package"

# The TypeScript snippets of README.md and docs/ (not the generated docs/api), each extracted
# into its own file of this app: every one type-checked (strict, no unused names) against the
# packed package, and every one that builds a CDK App run with node, CDK_OUTDIR set to a fresh
# folder, where the App synthesizes on exit: it must leave a cloud assembly with at least one
# stack template. Every failure names the snippet's document and line; all are reported.
mkdir snippets
node "$repo/test/consumer/snippets.mjs" "$repo" snippets > snippets.jsonl
found=$(wc -l < snippets.jsonl)
[ "$found" -ge 10 ] || { echo "docs snippets: expected at least 10 TypeScript snippets in README.md and docs/, found $found"; exit 1; }
grep -q '"doc":"README.md".*"synth":true' snippets.jsonl \
  || { echo "docs snippets: README.md has no TypeScript snippet that builds a CDK App"; exit 1; }
cat > tsconfig.snippets.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext", "strict": true,
  "noUnusedLocals": true, "skipLibCheck": true, "types": ["node"], "rootDir": "snippets", "outDir": "out-snippets" },
  "include": ["snippets/*.ts"] }
JSON
failed=0
node_modules/.bin/tsc -p tsconfig.snippets.json --pretty false > snippets-tsc.out 2>&1 || failed=1
# tsc's `snippets/<file>(<row>,<col>): error ...` as `<doc>:<line>:<col>: error ...`; the
# snippet's first row is the line after its opening fence. Prints the files that failed.
node -e '
  const fs = require("fs");
  const [jsonl, out, broken] = process.argv.slice(1);
  const snippets = new Map(fs.readFileSync(jsonl, "utf8").trim().split("\n").map((l) => JSON.parse(l)).map((s) => [s.file, s]));
  const failed = new Set();
  for (const line of fs.readFileSync(out, "utf8").split("\n").filter((l) => l.length > 0)) {
    const m = /^snippets\/([^(]+)\((\d+),(\d+)\): (.*)$/.exec(line);
    const s = m && snippets.get(m[1]);
    if (s) {
      failed.add(s.file);
      console.log(`docs snippet ${s.doc}:${s.line + Number(m[2])}:${m[3]}: ${m[4]}`);
    } else {
      console.log(line);
    }
  }
  fs.writeFileSync(broken, [...failed].join("\n"));
' snippets.jsonl snippets-tsc.out snippets-broken.txt
compiled=$((found - $(grep -c . snippets-broken.txt || true)))
synthesized=0
while IFS=$'\t' read -r file doc line; do
  if grep -qxF "$file" snippets-broken.txt; then
    continue
  fi
  assembly=$(mktemp -d "$work/assembly.XXXXXX")
  if ! CDK_OUTDIR="$assembly" node "out-snippets/${file%.ts}.js" > "$assembly.log" 2>&1; then
    echo "docs snippet $doc:$line failed to synthesize:"
    head -n 40 "$assembly.log" | sed 's/^/    /'
    failed=1
    continue
  fi
  # Stacks of the assembly and of nested ones (a Stage's), each with its template on disk.
  if ! stacks=$(node -e '
    const fs = require("fs"); const path = require("path");
    const count = (dir) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
      return Object.values(manifest.artifacts ?? {}).reduce((n, a) => {
        if (a.type === "aws:cloudformation:stack") {
          return n + (fs.existsSync(path.join(dir, a.properties.templateFile)) ? 1 : 0);
        }
        return a.type === "cdk:cloud-assembly" ? n + count(path.join(dir, a.properties.directoryName)) : n;
      }, 0);
    };
    const n = count(process.argv[1]);
    console.log(n);
    process.exit(n > 0 ? 0 : 1);
  ' "$assembly" 2>&1); then
    echo "docs snippet $doc:$line synthesized no cloud assembly with a stack template: $stacks"
    failed=1
    continue
  fi
  synthesized=$((synthesized + 1))
done < <(node -e '
  for (const l of require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")) {
    const s = JSON.parse(l);
    if (s.synth) console.log([s.file, s.doc, s.line].join("\t"));
  }
' snippets.jsonl)
echo "docs snippets: $compiled compiled, $synthesized synthesized"
[ "$failed" -eq 0 ] || { echo "docs snippets: failed (each failure above names its document and line)"; exit 1; }
