#!/usr/bin/env bash
# Set up nbdpath in .venv and run the main job, every check, on the built-in labs.
# Exits 1 because two labs reproduce failing backups on purpose; extra arguments go to `nbdpath check`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/nbdpath check --lab all "$@"
