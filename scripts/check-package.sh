#!/usr/bin/env bash
# npm run check:package: pack once (prepack builds dist/), then lint the tarball with publint
# (strict: warnings fail) and @arethetypeswrong/cli (ESM-only profile: CommonJS resolution is not offered).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npm pack --silent --pack-destination "$out" >/dev/null
tarball="$(ls "$out"/*.tgz)"
npx --no-install publint --strict "$tarball"
npx --no-install attw --profile esm-only --format ascii "$tarball"
