#!/usr/bin/env bash
# The main job on an embedded default: generate sample Cielo, Getnet, PagBank and Stone statements with the
# bank statements of their payments and the merchants' books, start a throwaway PostgreSQL
# (unless DATABASE_URL is set), run discover → ingest → load → reconcile, print the summary and write the
# HTML report (target/syncrocardpay-demo/report.html, its path printed). Extra arguments go to
# `syncrocardpay run` (e.g. --inbox DIR, --sample-transactions N, --lang en, --quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if [ ! -x target/debug/syncrocardpay ]; then
    echo "building syncrocardpay (the first build takes 5 to 8 minutes; cargo shows its progress)…" >&2
fi
cargo build --bin syncrocardpay
mkdir -p target/syncrocardpay-demo
exec ./target/debug/syncrocardpay run --report target/syncrocardpay-demo/report.html "$@"
