#!/usr/bin/env bash
# npm run check:package: pack once (prepack builds dist/ and the PGlite dumps), then lint the
# tarball with publint (strict: warnings fail) and @arethetypeswrong/cli (ESM-only profile:
# CommonJS resolution is not offered), and check that it holds the PGlite dumps
# (pglite-templates/) and that `fusion serve` on memory:// from the unpacked package starts
# from them (its user cache stays empty).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT
npm pack --silent --pack-destination "$out" >/dev/null
tarball="$(ls "$out"/*.tgz)"
npx --no-install publint --strict "$tarball"
npx --no-install attw --profile esm-only --format ascii "$tarball"

# The dumps: a manifest and the initdb and migrated dumps it names.
listing="$(tar -tzf "$tarball")"
for pattern in '^package/pglite-templates/manifest\.json$' '^package/pglite-templates/pglite-.*-initdb\.tgz$' '^package/pglite-templates/pglite-.*-migrated-[0-9a-f]{16}\.tgz$'; do
  grep -Eq "$pattern" <<<"$listing" || { echo "check-package: the tarball has no file matching $pattern"; exit 1; }
done

# Used: the unpacked package (dependencies from this checkout) serves memory:// with an empty
# user cache; a start that did not use the bundled migrated dump would write dumps there.
mkdir -p "$out/unpacked" "$out/cache"
tar -xzf "$tarball" -C "$out/unpacked"
pkg="$out/unpacked/package"
ln -s "$root/node_modules" "$pkg/node_modules"
printf '%s\n' '{"server": {"host": "127.0.0.1", "port": 0, "log_level": "debug", "log_requests": false},' \
  '"auth": {"backend": {"strategy": "basic", "basic": {"users": []}}, "clients": []}, "info": {"api": "check-package"}}' >"$out/config.yaml"
FUSION_PGLITE_CACHE="$out/cache" node "$pkg/dist/cli/main.js" serve --config "$out/config.yaml" --storage-url memory:// >"$out/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 600); do
  url="$(grep -oE 'Server listening at http://127\.0\.0\.1:[0-9]+' "$out/serve.log" | head -n 1 | sed 's/^Server listening at //')" || true
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$url" ] || { cat "$out/serve.log"; echo "check-package: fusion serve from the package did not start"; exit 1; }
curl -sf "$url/api/info" >/dev/null || { cat "$out/serve.log"; echo "check-package: $url/api/info did not answer"; exit 1; }
grep -q 'started PGlite from the bundled migrated dump' "$out/serve.log" || { cat "$out/serve.log"; echo "check-package: fusion serve did not start from the bundled dump"; exit 1; }
[ -z "$(ls -A "$out/cache")" ] || { ls -l "$out/cache"; echo "check-package: fusion serve wrote to the user cache: the bundled dumps were not used"; exit 1; }
echo "check-package: the tarball holds the PGlite dumps and fusion serve starts from them"
