#!/usr/bin/env bash
# test/e2e/run-e2e.sh - the end-to-end test of the extension in a real VS Code (code-server
# 4.100.3 = VS Code 1.100.3) driven by playwright-core and Debian's Chromium:
#   setup (installs what is missing, outside the repo) -> package the .vsix -> fresh profile and
#   workspace -> start code-server -> training, refinement, fixedpoint .e2e.test.mjs -> stop
#   code-server -> check that no trainer process survived.
# `npm run test:e2e` runs it (and `npm test` at its end). RECLAB_SKIP_E2E=1 skips it.
# Env: RECLAB_E2E_CACHE (installs, default ~/.cache/reclab-e2e), KEEP=1 (keep the work dir),
#      RECLAB_E2E_SHOT (the panel screenshot, default in the work dir; media/screenshots/training-panel.png renews the README's),
#      RECLAB_E2E_FP_SHOT (the fixed-point view's screenshot, default in the work dir),
#      RECLAB_E2E_SHOT_DIR (the refinement view's screenshots, default the work dir: the README's
#      come from RECLAB_E2E_SHOT_DIR=media/screenshots RECLAB_E2E_RUN9=<a trained 9x9 run>),
#      RECLAB_E2E_RUN9 (a 9x9 run directory for the refinement test to inspect instead of a tiny one),
#      RECLAB_E2E_TESTS (which test files, default "training deq refinement fixedpoint compare vote maze"),
#      RECLAB_E2E_DEQ_SHOT (the panel with the DEQ solver charts, default in the work dir),
#      RECLAB_E2E_MAZE_RUN (a trained maze run for the maze suite's trace and fixed-point pictures;
#      its screenshots go to RECLAB_E2E_SHOT_DIR, as the refinement suite's),
#      RECLAB_E2E_VOTE_SHOT (the Test-Time Scaling view's screenshot, default in the work dir),
#      RECLAB_E2E_COMPARE_SHOT_DIR (the compare test's screenshots: sweep report, runs table, panel with
#      three runs; default the work dir, media/screenshots renews the README's).
#      "slurm" needs the cluster of test/slurm/run-slurm-test.sh, which runs it with RECLAB_SLURM_E2E=1.
set -euo pipefail
if [ -n "${RECLAB_SKIP_E2E:-}" ]; then echo "e2e: skipped (RECLAB_SKIP_E2E set)"; exit 0; fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(ms)
CACHE="$(bash "$REPO/test/e2e/setup.sh" | tail -n 1)"
T_SETUP=$(ms)
CS_BIN="$CACHE/code-server-4.100.3/node_modules/.bin/code-server"
H="$CACHE/harness"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/reclab-e2e.XXXXXX")"
RUN="$WORK/run"
# Any code-server call writes ~/.config/code-server and ~/.local/share/code-server unless XDG_*
# point elsewhere (and Chromium its crash reports): keep all of it in the work dir.
export XDG_CONFIG_HOME="$RUN/xdg-config" XDG_DATA_HOME="$RUN/xdg-data"
mkdir -p "$RUN"/{user-data/User,extensions,workspace,xdg-config,xdg-data}

# 1. Build (when needed) and package.
[ -f "$REPO/dist/extension/extension.js" ] && [ -f "$REPO/dist/webview/training.js" ] && [ -f "$REPO/dist/webview/refinement.js" ] && [ -z "${RECLAB_E2E_BUILD:-}" ] || (cd "$REPO" && node build.mjs)
# The trainer bundle keeps native modules external (build.mjs) and loads onnxruntime-node when it
# starts, so the .vsix carries onnxruntime-node (this platform's binaries only) and
# onnxruntime-common beside dist/trainer/cli.js. Everything else is bundled.
VSIX="$WORK/recursion-lab.vsix"
STAGE="$WORK/stage"
mkdir -p "$STAGE"
cp -r "$REPO/package.json" "$REPO/.vscodeignore" "$REPO/dist" "$REPO/media" "$STAGE/"
[ -f "$REPO/README.md" ] && cp "$REPO/README.md" "$STAGE/"
# The PyTorch engine's package ships inside the extension (the CLI finds it above dist/trainer).
mkdir -p "$STAGE/engines/torch"
cp -r "$REPO/engines/torch/pyproject.toml" "$REPO/engines/torch/reclab" "$STAGE/engines/torch/"
if [ -d "$REPO/node_modules/onnxruntime-node" ]; then
  ORT="$STAGE/dist/trainer/node_modules/onnxruntime-node"
  PLAT="$(node -p 'process.platform + "/" + process.arch')"
  mkdir -p "$ORT/bin/napi-v6/$(dirname "$PLAT")"
  cp -r "$REPO/node_modules/onnxruntime-node/package.json" "$REPO/node_modules/onnxruntime-node/dist" "$ORT/"
  cp -r "$REPO/node_modules/onnxruntime-node/bin/napi-v6/$PLAT" "$ORT/bin/napi-v6/$(dirname "$PLAT")/"
  cp -r "$REPO/node_modules/onnxruntime-common" "$STAGE/dist/trainer/node_modules/"
fi
(cd "$STAGE" && "$H/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository --skip-license --baseImagesUrl https://example.invalid/ --out "$VSIX" </dev/null >/dev/null)

# 2. Fresh profile: no welcome page, no trust prompt, no telemetry, no update or gallery checks.
echo "# e2e workspace" > "$RUN/workspace/README.md"
: > "$RUN/config.yaml"
# The PyTorch engine's Python (the training test starts a torch run): the CI venv.
PY="$(bash "$REPO/test/setup/python-env.sh" | tail -n 1)"
cat > "$RUN/user-data/User/settings.json" <<JSON
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "git.enabled": false,
  "reclab.stopTimeoutSeconds": 20,
  "reclab.pythonPath": "$PY"
}
JSON
"$CS_BIN" --config "$RUN/config.yaml" --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" \
  --install-extension "$VSIX" >/dev/null
EXT_DIR="$(ls -d "$RUN"/extensions/recursion-lab.recursion-lab-*)"
T_INSTALL=$(ms)

# 3. code-server on a free local port (127.0.0.1: webviews need a secure context), in its own
#    process group so that it and its children stop together.
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
setsid "$CS_BIN" --config "$RUN/config.yaml" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" "$RUN/workspace" > "$RUN/code-server.log" 2>&1 &
CS_PID=$!
trainers() { ps -eo pid=,args= | grep -F "$EXT_DIR/dist/trainer/cli.js" | grep -v grep || true; }
cleanup() {
  kill -- "-$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
  if [ -z "${KEEP:-}" ] && [ "${rc:-1}" = 0 ]; then rm -rf "$WORK"; else echo "e2e: work dir kept: $WORK"; fi
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  kill -0 "$CS_PID" 2>/dev/null || { cat "$RUN/code-server.log"; exit 1; }
  sleep 0.1
done
T_START=$(ms)

# 4. The test.
rc=0
# Screenshots go to the work dir, so a test run leaves the tree clean; RECLAB_E2E_SHOT (and
# RECLAB_E2E_SHOT_DIR) put them where the README's pictures live when they are to be renewed.
SHOT="${RECLAB_E2E_SHOT:-$WORK/training-panel.png}"
mkdir -p "$(dirname "$SHOT")"
# RECLAB_E2E_TESTS picks test files (default: all of them, in this order).
want() { [[ " ${RECLAB_E2E_TESTS:-training deq refinement fixedpoint compare vote maze} " == *" $1 "* ]]; }
if want training; then
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" SHOT="$SHOT" HARNESS="$H" \
    FAILURE_SHOT="$WORK/failure.png" node --test --test-reporter=spec "$REPO/test/e2e/training.e2e.test.mjs" || rc=$?
fi
# The DEQ solver charts on a short attractor-sudoku4 run, in the same window (after training: its runs stay in the panel).
if want deq; then
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    DEQ_SHOT="${RECLAB_E2E_DEQ_SHOT:-$WORK/deq-panel.png}" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/deq.e2e.test.mjs" || rc=$?
fi
T_TRAINING=$(ms)
# The Puzzle Refinement view, in the same window (its runs are trained from a terminal).
if want refinement; then
  SHOT_DIR="${RECLAB_E2E_SHOT_DIR:-$WORK}"; mkdir -p "$SHOT_DIR"; SHOT_DIR="$(cd "$SHOT_DIR" && pwd)"
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    SHOT_DIR="$SHOT_DIR" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/refinement.e2e.test.mjs" || rc=$?
fi
T_REFINEMENT=$(ms)
# The Fixed-Point Debugging view on an exported .onnx, in the same window.
if want fixedpoint; then
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    FP_SHOT="${RECLAB_E2E_FP_SHOT:-$WORK/fixed-point-view.png}" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-concurrency=1 --test-reporter=spec "$REPO/test/e2e/fixedpoint.e2e.test.mjs" || rc=$?
fi
T_FIXEDPOINT=$(ms)
# Comparing runs: an ablation from the palette, its report, the runs table, three runs overlaid.
if want compare; then
  CMP_DIR="${RECLAB_E2E_COMPARE_SHOT_DIR:-$WORK}"; mkdir -p "$CMP_DIR"; CMP_DIR="$(cd "$CMP_DIR" && pwd)"
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    SHOT_DIR="$CMP_DIR" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/compare.e2e.test.mjs" || rc=$?
fi
# The Test-Time Scaling view (reclab vote) on a tiny run trained into the workspace (after compare,
# whose runs table counts the workspace runs).
if want vote; then
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    VOTE_SHOT="${RECLAB_E2E_VOTE_SHOT:-$WORK/vote-view.png}" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/vote.e2e.test.mjs" || rc=$?
fi
# Mazes and HRM in the refinement and fixed-point views (after compare and vote, which count the workspace runs).
if want maze; then
  SHOT_DIR="${RECLAB_E2E_SHOT_DIR:-$WORK}"; mkdir -p "$SHOT_DIR"; SHOT_DIR="$(cd "$SHOT_DIR" && pwd)"
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" \
    SHOT_DIR="$SHOT_DIR" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/maze.e2e.test.mjs" || rc=$?
fi
# The runs tree on a Slurm sweep: only with a cluster (test/slurm/run-slurm-test.sh runs it).
if [[ " ${RECLAB_E2E_TESTS:-} " == *" slurm "* ]]; then
  CS_URL="http://127.0.0.1:$PORT" CS_FOLDER="$RUN/workspace" EXT_DIR="$EXT_DIR" HARNESS="$H" FAILURE_SHOT="$WORK/failure.png" \
    node --test --test-reporter=spec "$REPO/test/e2e/slurm.e2e.test.mjs" || rc=$?
fi
T_TEST=$(ms)

# 5. Stop code-server (deactivates the extension) and check that no trainer outlived it.
kill -- "-$CS_PID" 2>/dev/null || true
wait "$CS_PID" 2>/dev/null || true
for _ in $(seq 1 50); do [ -z "$(trainers)" ] && break; sleep 0.1; done
if [ -n "$(trainers)" ]; then echo "e2e: FAIL: trainer processes left after code-server stopped:"; trainers; rc=1; fi
if [ "$rc" != 0 ]; then
  echo "e2e: failed; logs:"; tail -n 40 "$RUN/code-server.log" || true
  find "$RUN/user-data/logs" -name '*Recursion Lab*' -exec tail -n 60 {} \; 2>/dev/null || true
fi
sec() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
echo "e2e timings (s): setup $(sec "$T0" "$T_SETUP"), package+install $(sec "$T_SETUP" "$T_INSTALL"), code-server start $(sec "$T_INSTALL" "$T_START"), test $(sec "$T_START" "$T_TEST") (training $(sec "$T_START" "$T_TRAINING"), refinement $(sec "$T_TRAINING" "$T_REFINEMENT"), fixed point $(sec "$T_REFINEMENT" "$T_FIXEDPOINT"), compare $(sec "$T_FIXEDPOINT" "$T_TEST")), total $(sec "$T0" "$(ms)")"
exit $rc
