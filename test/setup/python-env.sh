#!/usr/bin/env bash
# test/setup/python-env.sh - the Python environment the tests and the PyTorch engine use, installed
# only where missing (a second call takes a second). Prints the venv's python on its last line.
#   - Debian's python3-torch 1.13 (CPU) with libopenblas0-openmp: the BLAS that makes it fast here
#     (perf-notes.md: the reference BLAS it brings is 40-80x slower); python3-venv, python3-pytest
#   - a venv on /usr/bin/python3 with --system-site-packages (so it sees Debian's torch and numpy)
#     plus pinned PyPI packages the tests need as the ecosystem's own readers: safetensors,
#     tensorboard (its event reader), onnx, jsonschema. numpy is pinned to Debian's so pip never
#     replaces the numpy torch 1.13 was built against.
# Cache: $RECLAB_PY_CACHE (default ~/.cache/reclab-py).
set -euo pipefail
CACHE="${RECLAB_PY_CACHE:-$HOME/.cache/reclab-py}"
VENV="$CACHE/venv"
PINS=(safetensors==0.8.0 tensorboard==2.21.0 onnx==1.23.2 jsonschema==4.26.0)
STAMP="$VENV/.reclab-pins"
log() { printf '[python setup] %s\n' "$*" >&2; }

want=(python3-torch libopenblas0-openmp python3-venv python3-pytest)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and no apt-get here: install PyTorch >= 1.13 and point reclab at it with --python"; exit 1
  fi
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
  log "apt-get install ${missing[*]} (about a minute)"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "${PINS[*]}" ]; then
  log "venv $VENV with ${PINS[*]}"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
  numpy_pin="numpy==$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')"
  printf '%s\n' "$numpy_pin" > "$CACHE/constraints.txt"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -c "$CACHE/constraints.txt" "${PINS[@]}" >&2
  echo "${PINS[*]}" > "$STAMP"
fi
"$VENV/bin/python" -c 'import torch, safetensors, numpy' >/dev/null
echo "$VENV/bin/python"
