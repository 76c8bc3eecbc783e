#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: runs every tests/setup/*.sh in name order.
# Each part is idempotent, caches slow installs under ~/.cache/codelab-planner (keyed by version) and works without
# that cache. The README's test command is `tests/setup.sh && cargo test --locked`.
set -euo pipefail
cd "$(dirname "$0")/.."
for part in tests/setup/*.sh; do
  [ -e "$part" ] || continue
  echo "setup: $part"
  bash "$part"
done
