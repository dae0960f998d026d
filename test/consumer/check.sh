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
for dep in aws-cdk-lib constructs zod @types; do
  ln -s "$repo/node_modules/$dep" "$work/app/node_modules/$dep"
done
cp test/consumer/app.ts "$work/app/app.ts"
cat > "$work/app/tsconfig.json" <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
  "strict": true, "skipLibCheck": true, "types": ["node"], "outDir": "out" }, "files": ["app.ts"] }
JSON
cd "$work/app"
"$repo/node_modules/.bin/tsc" -p tsconfig.json
node out/app.js "$work/cdk.out"
