#!/usr/bin/env bash
# Packs modelship as npm would publish it, installs the tarball into a throw-away CDK app
# outside the repository, type-checks that app against the published declarations and
# synthesizes it. Proves `import { ModelRegistry } from 'modelship'` works for a consumer.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
npm run build --silent
tarball=$(npm pack --silent --pack-destination "$work")
mkdir -p "$work/app/node_modules/modelship"
tar -xzf "$work/$tarball" -C "$work/app/node_modules/modelship" --strip-components=1
# The consumer's installed dependencies: modelship's own (and esbuild for bundling), linked.
for dep in "$repo"/node_modules/* "$repo"/node_modules/@* "$repo"/node_modules/.bin; do
  [ -e "$work/app/node_modules/$(basename "$dep")" ] || ln -s "$dep" "$work/app/node_modules/$(basename "$dep")"
done
cp test/consumer/app.ts "$work/app/app.ts"
echo '{ "name": "consumer", "version": "1.0.0", "private": true }' > "$work/app/package.json"
echo '{ "name": "consumer", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {} }' > "$work/app/package-lock.json"
cat > "$work/app/tsconfig.json" <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
  "strict": true, "skipLibCheck": true, "types": ["node"], "outDir": "out" }, "files": ["app.ts"] }
JSON
cd "$work/app"
"$repo/node_modules/.bin/tsc" -p tsconfig.json
node out/app.js "$work/cdk.out"
# The packed CLI, as `npx modelship` would run it.
node node_modules/modelship/dist/bin/modelship.js --help | grep -q 'modelship status churn-ab'
echo "consumer app: the packed modelship CLI answers --help"
