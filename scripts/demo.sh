#!/usr/bin/env bash
# The Quick start demo: installs what it needs, starts the local SQS emulator, runs the sample MCP server over
# SQS and a client that lists its tools and calls a long-running tool while printing progress, then stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

echo "demo: building the samples"
dotnet build samples/SqsServer/SqsServer.csproj -c Release --no-restore --verbosity quiet -nologo
dotnet build samples/SqsClient/SqsClient.csproj -c Release --no-restore --verbosity quiet -nologo

read -r emulator_pid port < <(scripts/start-emulator.sh)
pids+=("$emulator_pid")
echo "demo: SQS emulator (fauxqs) on 127.0.0.1:$port"

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export ASYNCMCP_REQUEST_QUEUE=demo-requests ASYNCMCP_RESPONSE_QUEUE=demo-responses

server_log=$(mktemp)
dotnet samples/SqsServer/bin/Release/net10.0/SqsServer.dll >"$server_log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 600); do
  grep -q SERVER_READY "$server_log" && break
  if ! kill -0 "${pids[1]}" 2>/dev/null; then cat "$server_log" >&2; exit 1; fi
  sleep 0.1
done
grep -q SERVER_READY "$server_log" || { echo "demo: the server did not start" >&2; cat "$server_log" >&2; exit 1; }
echo "demo: MCP server listening on $(grep -o 'SERVER_READY .*' "$server_log" | cut -d' ' -f2)"
echo

dotnet samples/SqsClient/bin/Release/net10.0/SqsClient.dll
echo
echo "demo: done; stopping the server and the emulator"
