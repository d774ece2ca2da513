#!/usr/bin/env bash
# Runs the benchmarks on the local emulator and writes a Markdown report to artifacts/benchmarks.md and SVG charts
# (ScottPlot) to artifacts/charts/.
# Pass --quick for a short smoke run, --only NAME for one section (sqs, webhook, hybrid, proxy, restart, memory,
# dispose, delivery, s3, sns, scale, tasks, idle); --concurrency N for one level of the sections that have levels.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
mkdir -p artifacts
dotnet run --project benchmarks/AsyncMcp.Benchmarks -c Release --no-restore -- --output artifacts/benchmarks.md --charts artifacts/charts "$@"
