#!/usr/bin/env bash
# Installs the Python-packaged tools the project needs into virtual environments
# under .venv/ (ignored by git), so a fresh machine needs only cargo and python3.
#   tools.sh lambda   -> cargo-lambda            (.venv/tools)
#   tools.sh moto     -> moto[server]            (.venv/tools)
#   tools.sh sam      -> aws-sam-cli             (.venv/sam, kept apart: heavy, pinned deps)
#   tools.sh fuzz     -> schemathesis 4.32.5     (.venv/fuzz; pinned: its CLI flags change between releases)
# Prints nothing on success but what pip says when it has work to do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"

ensure_venv() {
  local dir="$root/.venv/$1"
  if [ ! -x "$dir/bin/python" ]; then
    "$py" -m venv "$dir"
    "$dir/bin/pip" install --quiet --upgrade pip
  fi
}

for want in "$@"; do
  case "$want" in
    lambda)
      ensure_venv tools
      [ -x "$root/.venv/tools/bin/cargo-lambda" ] || "$root/.venv/tools/bin/pip" install --quiet 'cargo-lambda>=1.8'
      ;;
    moto)
      ensure_venv tools
      [ -x "$root/.venv/tools/bin/moto_server" ] || "$root/.venv/tools/bin/pip" install --quiet 'moto[server]>=5.0'
      ;;
    sam)
      ensure_venv sam
      [ -x "$root/.venv/sam/bin/sam" ] || "$root/.venv/sam/bin/pip" install --quiet 'aws-sam-cli>=1.120'
      ;;
    fuzz)
      ensure_venv fuzz
      [ -x "$root/.venv/fuzz/bin/schemathesis" ] || "$root/.venv/fuzz/bin/pip" install --quiet 'schemathesis==4.32.5'
      ;;
    *) echo "tools.sh: unknown tool '$want'" >&2; exit 2 ;;
  esac
done
