#!/usr/bin/env bash
# Tools the interface tests need (issue 13), from the registries, idempotently:
# - promtool, from Debian's `prometheus` package (tests/service/metrics-lint.test.ts);
# - schemathesis and the CloudEvents Python SDK, from PyPI, into a virtualenv
#   (tests/integration/schemathesis.test.ts, tests/http/cloudevents-sdk.test.ts find it at
#   $HUITIAN_PYTHON_VENV, default ~/.cache/huitian-ci/venv).
# A second run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v promtool > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus > /dev/null
fi
promtool --version | head -1
venv="${HUITIAN_PYTHON_VENV:-$HOME/.cache/huitian-ci/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r scripts/ci/requirements.txt
"$venv/bin/python" -c 'import cloudevents, schemathesis; print("schemathesis", schemathesis.__version__)'
