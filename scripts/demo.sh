#!/usr/bin/env bash
# The main job on an embedded default: generate sample Cielo statements, start a throwaway PostgreSQL
# (unless DATABASE_URL is set), run discover → ingest → load, print the summary. Extra arguments go to
# `syncrocardpay run` (e.g. --inbox DIR, --sample-transactions N).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cargo build --quiet --bin syncrocardpay
exec ./target/debug/syncrocardpay run "$@"
