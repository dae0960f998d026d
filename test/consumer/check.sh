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
echo "consumer check: the packed modelship CLI answers --help"
node out/source-maps.js "$work/package"
