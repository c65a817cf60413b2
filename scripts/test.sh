#!/usr/bin/env bash
# The whole test suite against real services: starts a throwaway PostgreSQL cluster on 127.0.0.1, runs every
# test, stops and deletes the cluster. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

# The independent Python parser the formats are checked against (tests/cielo_edi_oracle.rs), the AWS
# emulator the S3/SSM tests run against (tests/aws.rs), and the FTPS server of tests/ftps.rs. Tests skip with a message when these are missing.
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import cielo_edi' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'cielo-edi==15.14.1' \
    || echo "note: could not install cielo-edi; the oracle comparison will be skipped" >&2
  python3 -c 'import moto.server, flask' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' \
    || echo "note: could not install moto; the S3/SSM tests will be skipped" >&2
  python3 -c 'import pyftpdlib, OpenSSL' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'pyftpdlib>=2,<3' pyopenssl \
    || echo "note: could not install pyftpdlib; the FTPS tests will be skipped" >&2
  # The deployment definitions' linters (tests/deploy_definitions.rs) and the local Lambda runtime emulator
  # (tests/lambda_emulator.rs).
  command -v cfn-lint >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'cfn-lint>=1,<2' \
    || echo "note: could not install cfn-lint; the template lint will be skipped" >&2
  cargo lambda --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'cargo-lambda>=1.8,<2' \
    || echo "note: could not install cargo-lambda; the runtime emulator test will be skipped" >&2
fi
# Headless Chromium renders the HTML report (tests/reconcile.rs).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
    || echo "note: could not install chromium; the report rendering test will be skipped" >&2
fi
if command -v npm >/dev/null 2>&1; then
  command -v asl-validator >/dev/null 2>&1 || npm install --silent --global 'asl-validator@4' >/dev/null \
    || echo "note: could not install asl-validator; the state machine lint will be skipped" >&2
fi

cargo build --quiet --workspace --bins
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
cargo test --workspace "$@"
