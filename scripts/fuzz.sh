#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer via cargo-fuzz) of format detection and every parser, for a bounded time:
# the statements for SECONDS, then the merchant sales CSV and the contract rates CSV for half of it each.
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
# The same build as scripts/test.sh's (one feature set): after the tests, nothing to compile.
cargo build --quiet --workspace --bins --tests
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
./target/debug/syncrocardpay sample --out "$seeds" --transactions 20 --merchants 1 --quirks >/dev/null
cp "$seeds"/*.TXT "$seeds"/quirks/*.TXT "$corpus"/
if [ -d ../shared/fixtures ]; then
  for f in ../shared/fixtures/*.txt ../shared/fixtures/cielo-official-kit-v15/* ../shared/fixtures/cielo-layout-001/* \
           ../shared/fixtures/pagbank/* ../shared/fixtures/stone/*; do
    [ -f "$f" ] && head -c 20000 "$f" > "$corpus/fixture-$(basename "$f")"
  done
fi

# The CSV formats (the merchant's export, the contract rates), seeded with small valid files.
mkdir -p fuzz/corpus/merchant_csv fuzz/corpus/rates_csv
printf 'Pedido;Data;Valor;NSU;Loja\nPED-1;03/08/2026;1.234,56;000123;0001\nPED-2;03/08/2026;(10,00);000124;0002\n' \
  > fuzz/corpus/merchant_csv/seed.csv
printf 'merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to\n0001,cielo,001,*,1,1,2.48,2026-01-01,\n' \
  > fuzz/corpus/rates_csv/seed.csv

cd fuzz
cargo fuzz run statement --target-dir ../target/fuzz "corpus/statement" -- \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=512 -print_final_stats=1
for target in merchant_csv rates_csv; do
  cargo fuzz run "$target" --target-dir ../target/fuzz "corpus/$target" -- \
    -max_total_time="$(( (seconds + 1) / 2 ))" -max_len=65536 -rss_limit_mb=512 -print_final_stats=1
done
