#!/usr/bin/env bash
# The three Lambda functions as `sam build` makes them for deployment: release `bootstrap` binaries for
# provided.al2023 on arm64 (Graviton), built by SAM CLI's rust-cargolambda method (cargo-lambda, zig as the
# cross linker) from each function's package (template.yaml CodeUri). SAM CLI and cargo-lambda at their pinned
# versions (scripts/test-tools.txt). Checks each artifact is an aarch64 Linux executable.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/test-tools.sh):$PATH"
export PATH SAM_CLI_TELEMETRY=0
# The arm64 standard library, installed once before the four parallel builds: left to cargo-lambda, each
# build installs it at the same time, three of them fail to ("Failed to install target component") and
# compile before it is there ("can't find crate for `core`").
if command -v rustup >/dev/null; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null
fi
# samconfig.toml: cached, parallel, beta_features. The four parallel cargo-lambda builds also race on first use
# to create cargo-zigbuild's linker wrappers (symlinks under ~/.cache/cargo-zigbuild, one folder per
# cargo-lambda path): one of them may fail with "File exists (os error 17)" (seen on a fresh machine). The
# wrappers then exist, so that failure alone is retried once; the cache keeps the functions already built.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! sam build --template template.yaml 2>&1 | tee "$log"; then
  if grep -q "File exists (os error 17)" "$log"; then
    echo "== sam build: cargo-lambda's parallel builds raced creating their zig wrappers (EEXIST); building again" >&2
    sam build --template template.yaml
  else
    exit 1
  fi
fi
for f in Discover Ingest Load Migrate; do
  bin=".aws-sam/build/${f}Function/bootstrap"
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
