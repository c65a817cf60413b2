#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer via cargo-fuzz) of format detection and every parser, for a bounded time.
# Seeds the corpus with small generated statements of every type and the shared real fixtures when present.
# Usage: bash scripts/fuzz.sh [SECONDS]   (default 60). Exit status non-zero if a crash or property failure
# is found; libFuzzer saves the input under fuzz/artifacts/statement/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${SYNCRO_FUZZ_SECONDS:-60}}

PATH="$(bash scripts/test-tools.sh):$PATH"   # cargo-fuzz at its pinned version (scripts/test-tools.txt)
export PATH
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1

corpus=fuzz/corpus/statement
mkdir -p "$corpus"
cargo build --quiet --bin syncrocardpay
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
./target/debug/syncrocardpay sample --out "$seeds" --transactions 20 --merchants 1 >/dev/null
cp "$seeds"/*.TXT "$corpus"/
if [ -d ../shared/fixtures ]; then
  for f in ../shared/fixtures/*.txt; do head -c 20000 "$f" > "$corpus/fixture-$(basename "$f")"; done
fi

cd fuzz
cargo fuzz run statement --target-dir ../target/fuzz "corpus/statement" -- \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=512 -print_final_stats=1
