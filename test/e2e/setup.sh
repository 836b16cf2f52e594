#!/usr/bin/env bash
# test/e2e/setup.sh - installs what the end-to-end test needs, outside the repository, and only
# what is missing (a second call takes a second). Needs only Debian apt and the npm registry.
#   - apt: chromium (the browser), ripgrep (replaces VS Code's GitHub download of rg),
#     libkrb5-dev + build-essential + python3 (native modules of code-server), curl
#   - code-server 4.100.3 (= VS Code 1.100.3, the newest that runs on Node 20) from npm
#   - playwright-core (library only, drives /usr/bin/chromium) and @vscode/vsce 3.9.2 (packages
#     the .vsix; 4.x needs Node 22)
# The recipe and its blockers are in ../shared/e2e/README.md; this is the same recipe.
# Cache: $RECLAB_E2E_CACHE (default ~/.cache/reclab-e2e). Prints the cache path on its last line.
set -euo pipefail

CACHE="${RECLAB_E2E_CACHE:-$HOME/.cache/reclab-e2e}"
CS_VERSION=4.100.3
PW_VERSION=1.65.1
VSCE_VERSION=3.9.2
# @vscode/ripgrep as pinned by code-server 4.100.3 (lib/vscode/npm-shrinkwrap.json), and the asset
# name its postinstall asks GitHub for. Re-check both when CS_VERSION changes.
RG_PKG_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

log() { printf '[e2e setup] %s\n' "$*" >&2; }
mkdir -p "$CACHE"

# 1. Debian packages.
want=(chromium ripgrep libkrb5-dev build-essential python3 curl)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and no apt-get here: install them, or set RECLAB_SKIP_E2E=1"; exit 1
  fi
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
  log "apt-get install ${missing[*]} (about a minute)"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. code-server. @vscode/ripgrep's postinstall downloads rg from api.github.com unless a cached
#    asset sits in $TMPDIR/vscode-ripgrep-cache-<version>/: put a tarball of Debian's rg there.
#    npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which npx cancels when yes=false.
#    npm_config_unsafe_perm: code-server's postinstall refuses root without it.
#    npm_config_nodedir: node-gyp uses the local headers instead of downloading them.
CS_DIR="$CACHE/code-server-$CS_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
RG_BIN="$CS_DIR/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
if [ ! -x "$CS_BIN" ] || [ ! -x "$RG_BIN" ] || [ ! -d "$CS_DIR/node_modules/code-server/lib/vscode/node_modules" ]; then
  log "npm install code-server@$CS_VERSION (1-2 minutes)"
  export TMPDIR="$CACHE/tmp"
  rgcache="$TMPDIR/vscode-ripgrep-cache-$RG_PKG_VERSION"
  mkdir -p "$rgcache" "$CACHE/tmp/rg-stage" "$CS_DIR"
  cp /usr/bin/rg "$CACHE/tmp/rg-stage/rg"
  tar czf "$rgcache/$RG_ASSET" -C "$CACHE/tmp/rg-stage" rg
  [ -f "$CS_DIR/package.json" ] || echo '{"name":"reclab-e2e-code-server","private":true}' > "$CS_DIR/package.json"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  ( cd "$CS_DIR" && npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir="$nodedir" \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" )
  [ -x "$RG_BIN" ] || { log "code-server installed without its rg ($RG_BIN)"; exit 1; }
fi

# 3. Test harness.
H="$CACHE/harness"
if [ ! -f "$H/node_modules/playwright-core/package.json" ] || [ ! -x "$H/node_modules/.bin/vsce" ]; then
  log "npm install playwright-core@$PW_VERSION @vscode/vsce@$VSCE_VERSION"
  mkdir -p "$H"
  [ -f "$H/package.json" ] || echo '{"name":"reclab-e2e-harness","private":true}' > "$H/package.json"
  ( cd "$H" && npm install --no-audit --no-fund --loglevel=error "playwright-core@$PW_VERSION" "@vscode/vsce@$VSCE_VERSION" )
fi
echo "$CACHE"
