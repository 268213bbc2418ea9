#!/usr/bin/env bash
# Installs the Python-packaged tools the project needs into virtual environments
# under .venv/ (ignored by git), so a fresh machine needs only cargo and python3. Every tool
# is pinned to the version the suite passes with: a new release must not break a fresh
# machine's quick start. Raise a pin deliberately, after a green run.
#   tools.sh lambda   -> cargo-lambda 1.9.2         (.venv/tools)
#   tools.sh moto     -> moto[server] 5.2.5         (.venv/tools)
#   tools.sh sam      -> aws-sam-cli 1.170.0        (.venv/sam, kept apart: heavy, pinned deps)
#   tools.sh fuzz     -> schemathesis 4.32.5        (.venv/fuzz; its CLI flags change between releases)
#   tools.sh client   -> the Python client (clients/python) with httpx 0.28.1,
#                        datamodel-code-generator 0.89.0 (.venv/client; the generator's output
#                        is compared with the committed models, so its version is pinned) and
#                        pyarrow 26.0.1, onnxruntime 1.32.0 and onnx 1.23.2 (its tests read the
#                        service's Parquet and run its ONNX exports with them)
#   tools.sh ui       -> Debian's chromium (apt-get, when missing) and websocket-client 1.8.0
#                        (.venv/ui), for the dashboard's browser test (tests/ui_check.py)
# A venv whose tool is at another version is brought to the pin. Prints nothing on success
# but what pip says when it has work to do.
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

# install VENV COMMAND SPEC: installs SPEC into .venv/VENV unless its stamp says it is there.
install() {
  local venv="$1" command="$2" spec="$3"
  local stamp="$root/.venv/$venv/.pinned-$command"
  ensure_venv "$venv"
  if [ ! -x "$root/.venv/$venv/bin/$command" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$spec" ]; then
    "$root/.venv/$venv/bin/pip" install --quiet "$spec"
    echo "$spec" >"$stamp"
  fi
}

# library VENV NAME SPEC: as install, for a package without a command (its stamp alone).
library() {
  local venv="$1" name="$2" spec="$3"
  local stamp="$root/.venv/$venv/.pinned-$name"
  ensure_venv "$venv"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$spec" ]; then
    "$root/.venv/$venv/bin/pip" install --quiet "$spec"
    echo "$spec" >"$stamp"
  fi
}

for want in "$@"; do
  case "$want" in
    lambda) install tools cargo-lambda 'cargo-lambda==1.9.2' ;;
    moto) install tools moto_server 'moto[server]==5.2.5' ;;
    sam) install sam sam 'aws-sam-cli==1.170.0' ;;
    fuzz) install fuzz schemathesis 'schemathesis==4.32.5' ;;
    client)
      install client datamodel-codegen 'datamodel-code-generator==0.89.0'
      install client httpx 'httpx==0.28.1'
      # The client's tests read the service's Parquet with the library users read it with.
      library client pyarrow 'pyarrow==26.0.1'
      # ONNX exports are checked with the runtime and the checker users load them with.
      library client onnxruntime 'onnxruntime==1.32.0'
      library client onnx 'onnx==1.23.2'
      # Image datasets and networks download as safetensors, read with its own library.
      library client safetensors 'safetensors==0.8.0'
      # The client itself, from this tree, every time (it is what is tested).
      "$root/.venv/client/bin/pip" install --quiet --no-deps --force-reinstall "$root/clients/python"
      ;;
    ui)
      if ! command -v chromium >/dev/null; then
        # Debian's package, from the distribution's own archive (no browser download elsewhere).
        if [ "$(id -u)" = 0 ]; then
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
        else
          echo "tools.sh: the browser test needs Debian's chromium: sudo apt-get install chromium" >&2
          exit 1
        fi
      fi
      library ui websocket-client 'websocket-client==1.8.0'
      ;;
    *) echo "tools.sh: unknown tool '$want'" >&2; exit 2 ;;
  esac
done
