#!/usr/bin/env bash
# The three Lambda functions as release `bootstrap` binaries for provided.al2023 on arm64 (Graviton), built
# by cargo-lambda (zig as the cross linker) exactly as `sam build` builds them: target/lambda/<name>/bootstrap.
# Checks each is an aarch64 Linux executable.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/test-tools.sh):$PATH"   # cargo-lambda at its pinned version (scripts/test-tools.txt)
export PATH
cargo lambda build --release --arm64 -p syncrocardpay-discover -p syncrocardpay-ingest -p syncrocardpay-load
dir="${CARGO_TARGET_DIR:-target}/lambda"
for f in discover ingest load; do
  bin="$dir/$f/bootstrap"
  [ -x "$bin" ] || { echo "missing $bin" >&2; exit 1; }
  # ELF, 64-bit, little-endian, e_machine 0xB7 (AArch64).
  python3 - "$bin" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(20)
assert h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1, "not a 64-bit little-endian ELF"
assert struct.unpack("<H", h[18:20])[0] == 0xB7, "not AArch64"
PY
  echo "$bin: aarch64 ELF, $(du -h "$bin" | cut -f1)"
done
