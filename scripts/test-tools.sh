#!/usr/bin/env bash
# Install the pinned test tools of scripts/test-tools.txt into .tools/ (project-local; nothing global), once
# per version of that file. Prints the PATH entries to put first: `export PATH="$(bash scripts/test-tools.sh):$PATH"`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.tools
pins=scripts/test-tools.txt
want=$(sha256sum "$pins" | cut -d' ' -f1)
paths="$root/venv/bin:$root/npm/node_modules/.bin:$root/cargo/bin"
# Tools in venvs of their own (kind `venv`, column 2 the venv's name) come after the shared venv.
while read -r name; do paths="$paths:$root/$name/bin"; done < <(awk '$1 == "venv" {print $2}' "$pins")
if [ -f "$root/installed" ] && [ "$(cat "$root/installed")" = "$want" ]; then
  echo "$paths"
  exit 0
fi
apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { echo "missing $*: install it and re-run" >&2; exit 1; }
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
rm -rf "$root" && mkdir -p "$root"
python3 -m venv "$root/venv" >&2
mapfile -t pip_pkgs < <(awk '$1 == "pip" {print $2}' "$pins")
mapfile -t npm_pkgs < <(awk '$1 == "npm" {print $2}' "$pins")
mapfile -t cargo_pkgs < <(awk '$1 == "cargo" {print $2}' "$pins")
echo "installing pinned test tools into .tools/: ${pip_pkgs[*]} ${npm_pkgs[*]} ${cargo_pkgs[*]}" >&2
"$root/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_pkgs[@]}" >&2
while read -r name pkg; do
  python3 -m venv "$root/$name" >&2
  "$root/$name/bin/python" -m pip install --quiet --disable-pip-version-check "$pkg" >&2
done < <(awk '$1 == "venv" {print $2, $3}' "$pins")
npm install --silent --no-audit --no-fund --prefix "$root/npm" "${npm_pkgs[@]}" >/dev/null
for c in "${cargo_pkgs[@]}"; do
  cargo install --quiet --locked --root "$root/cargo" "${c%@*}" --version "${c#*@}" >&2
done
echo "$want" > "$root/installed"
echo "$paths"
