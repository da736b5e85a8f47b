#!/usr/bin/env bash
# npm run test:properties -- [FACTOR]
# Runs every property suite (the test files that call fc.assert) with FACTOR times its
# usual number of runs (default 50), once, with fresh random seeds. A failure prints the
# seed and counterexample: that is a bug to fix in the code, never a seed to pin.
set -euo pipefail
cd "$(dirname "$0")/.."
factor="${1:-50}"
[[ "$factor" =~ ^[1-9][0-9]*$ ]] || { echo "usage: npm run test:properties -- FACTOR (a whole number ≥ 1)" >&2; exit 2; }
mapfile -t files < <(grep -rl "fc.assert" tests --include='*.test.ts' | sort)
echo "property suites ×$factor: ${files[*]}" >&2
HUITIAN_PROPERTY_FACTOR="$factor" exec npx vitest run --project unit --testTimeout=$((30000 * factor)) "${files[@]}"
