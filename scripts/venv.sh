#!/usr/bin/env bash
# Shared setup: a project virtualenv in .venv with nbdpath installed (editable).
# Usage: scripts/venv.sh [EXTRA]   e.g. "test" for the test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  # Debian ships venv/ensurepip separately.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "nbdpath: python3 cannot create virtualenvs; install python3-venv (sudo apt-get install python3-venv)" >&2
    exit 2
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
spec="."
[ -n "${1:-}" ] && spec=".[$1]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
