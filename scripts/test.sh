#!/usr/bin/env bash
# The whole test suite against real services: starts a throwaway PostgreSQL cluster on 127.0.0.1, runs every
# test, stops and deletes the cluster. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

# Every outside tool the tests run against (cfn-lint, moto, pyftpdlib, cielo-edi, cargo-lambda, asl-validator,
# cargo-fuzz) at the exact versions of scripts/test-tools.txt, installed into .tools/ and put first on PATH: the
# suite runs those versions whatever the machine has globally.
PATH="$(bash scripts/test-tools.sh):$PATH"
export PATH
# Headless Chromium renders the HTML report (tests/reconcile.rs); Debian's package.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
    || echo "note: could not install chromium; the report rendering test will be skipped" >&2
fi

# Debian's vsftpd, strictly configured, is the second FTPS server the tests run against (tests/vsftpd.rs): it
# needs the package, a system login and a PAM service, set up as root once.
if [ "$(id -u)" = 0 ]; then
  bash scripts/vsftpd-test-setup.sh || echo "note: could not set up vsftpd; the vsftpd tests will be skipped" >&2
fi

# Everything the tests run, built once with one feature set: the test targets, the CLI and the Lambda binaries
# (tests/lambda_emulator.rs runs target/debug/load). Building them in separate cargo commands would resolve
# the dependencies' features differently (dev-dependencies add some) and compile, and keep, every dependency
# twice. `cargo test` below then builds nothing new.
if ! cargo build --quiet --workspace --bins --tests; then
  echo "== the tests did not compile (see above): no test ran" >&2
  exit 101
fi
PGDIR=$(mktemp -d /tmp/syncrocardpay-test-pg.XXXXXX)
cleanup() { ./target/debug/syncrocardpay db stop --dir "$PGDIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
./target/debug/syncrocardpay db start --dir "$PGDIR"
set -a
# shellcheck disable=SC1091
. "$PGDIR/env"
set +a

if [ ! -d ../shared/fixtures ] && [ -z "${SYNCRO_FIXTURES:-}" ]; then
  echo "note: ../shared/fixtures is absent; tests on real statement lines will be skipped" >&2
fi
# Every test binary runs even when an earlier one fails (--no-fail-fast); skipped tests are logged by
# tests/common/skip.rs and summed up below by reason, so a skip is never hidden behind an "ok".
SYNCRO_SKIP_LOG=$(mktemp /tmp/syncrocardpay-skips.XXXXXX)
export SYNCRO_SKIP_LOG
status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
skips=$(wc -l < "$SYNCRO_SKIP_LOG")
if [ "$skips" -gt 0 ]; then
  echo "== $skips skipped test(s), by reason:"
  cut -f2 "$SYNCRO_SKIP_LOG" | sort | uniq -c | sort -rn
  echo "   (tests: $(cut -f1 "$SYNCRO_SKIP_LOG" | sort -u | tr '\n' ' '))"
else
  echo "== no test skipped"
fi
rm -f "$SYNCRO_SKIP_LOG"
if [ "$status" != 0 ]; then
  echo "== some tests FAILED (cargo test exit $status); every test binary was run, see above" >&2
fi
exit "$status"
