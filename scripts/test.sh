#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs, then runs every test project against real
# infrastructure (the fauxqs emulator, Node peers), which the tests start and stop themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh

log=$(mktemp)
set +e
dotnet test --solution AsyncMcp.slnx -c Release --no-restore 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line that any CI reads: "N passed, N failed".
total=$(grep -Eo '^\s*total: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^\s*failed: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
passed=$(grep -Eo '^\s*succeeded: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
skipped=$(grep -Eo '^\s*skipped: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ "$status" -ne 0 ]]; then
  exit "$status"
fi
if [[ "$total" -eq 0 ]]; then
  echo "test: no tests ran" >&2
  exit 1
fi
