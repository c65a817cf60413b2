#!/usr/bin/env bash
# Install what syncrocardpay needs on a Debian machine and is missing: PostgreSQL server binaries (for the
# throwaway local cluster). Idempotent; needs root only when something must be installed.
set -euo pipefail

have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }

if ! have_pg; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL server binaries are missing: run 'apt-get install postgresql' as root" >&2
    exit 1
  fi
  echo "installing PostgreSQL from Debian (apt)…" >&2
  apt-get update -qq
  # Debian's policy-rc.d keeps the package from starting a system cluster; we never use one.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust (https://rustup.rs) and re-run" >&2
  exit 1
fi
