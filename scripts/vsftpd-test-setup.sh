#!/usr/bin/env bash
# What the vsftpd tests (tests/vsftpd.rs) need of the machine, set up as root: Debian's vsftpd package, a
# system user for the FTP login (no shell, home `/`: each test server gives it a login directory of its own
# with `local_root`) and a PAM service that checks that user's password with pam_unix (Debian's own vsftpd
# service also requires a login shell). vsftpd is only ever started by the tests, on 127.0.0.1 and a free port;
# the package's own service is not started (no init system here; on a machine with one, it is stopped and
# disabled). Idempotent. The password is the tests' fixed one, for a user that can do nothing but log in to
# those throwaway servers.
set -euo pipefail
user=syncroedi
password='edi-S3cret!'
pam=/etc/pam.d/syncrocardpay-ftps-test
if [ "$(id -u)" != 0 ]; then
  echo "scripts/vsftpd-test-setup.sh: must run as root (it installs vsftpd and adds the user $user)" >&2
  exit 1
fi
if ! command -v vsftpd >/dev/null 2>&1 && [ ! -x /usr/sbin/vsftpd ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends vsftpd >/dev/null
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now vsftpd >/dev/null 2>&1 || true
  fi
fi
# vsftpd changes to the user's home before `local_root`: a home that exists (`/`; the user can write nowhere).
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$user"
usermod --home / "$user"
echo "$user:$password" | chpasswd
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' > "$pam"
mkdir -p /var/run/vsftpd/empty
