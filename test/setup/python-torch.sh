#!/usr/bin/env bash
# test/setup/python-torch.sh - makes Debian's PyTorch (CPU) importable by /usr/bin/python3 for the
# test of docs/examples/export_trm_onnx.py; installs python3-torch with apt only when missing
# (about a minute, ~850 MB). A second call takes a second.
set -euo pipefail
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import torch' >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "[torch setup] no python3-torch and no apt-get: install PyTorch for $PY" >&2; exit 1
fi
SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
echo "[torch setup] apt-get install python3-torch (about a minute)" >&2
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq python3-torch >/dev/null
"$PY" -c 'import torch' >/dev/null
