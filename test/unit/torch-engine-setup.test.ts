// The PyTorch engine's front door before any worker runs: the Python probe's errors through the
// built CLI (exit 2, what to install, no run directory), the order Python is chosen in, OpenBLAS's
// core type from CPU flags, and the task-data file read back by the real safetensors library and
// checked against Sudoku's rules in Python (an independent reader and an independent check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { presets } from '../../protocol/presets';
import { loadTaskData } from '../../trainer/data/taskData';
import { checkTorchDevice, choosePython, torchVersionTooOld, type PythonInfo } from '../../trainer/engines/pythonEnvironment';
import { writeTaskDataFile } from '../../trainer/engines/taskDataFile';
import { openblasCoreType, workerEnvironment } from '../../trainer/engines/workerEnvironment';

const cli = resolve(__dirname, '../../dist/trainer/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reclab-torch-setup-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const venvPython = (): string => execFileSync('bash', [resolve(__dirname, '../setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;

function reclab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RECLAB_PYTHON: '', RECLAB_PYTHON_SETTING: '', ...env } });
  return { code: r.status, stderr: r.stderr };
}

const INSTALL_DEBIAN = 'apt-get install python3-torch libopenblas0-openmp';
const INSTALL_PIP = 'pip install torch safetensors';

test('a python that does not exist: exit 2, says what to install, no run directory', () => {
  const runDir = join(dir, 'run-no-python');
  const r = reclab(['train', '--engine', 'torch', '--python', '/nonexistent/bin/python3', '--run-dir', runDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /\/nonexistent\/bin\/python3 \(from --python\): not found/);
  assert.ok(r.stderr.includes(INSTALL_DEBIAN) && r.stderr.includes(INSTALL_PIP), r.stderr);
  assert.equal(existsSync(runDir), false);
});

test('a python without torch (a fresh venv): exit 2 naming torch, no run directory', () => {
  const venv = join(dir, 'bare-venv');
  execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', venv]);
  const runDir = join(dir, 'run-no-torch');
  const r = reclab(['train', '--engine', 'torch', '--run-dir', runDir], { RECLAB_PYTHON: join(venv, 'bin', 'python') });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /\(from RECLAB_PYTHON\) \(Python 3\.[0-9.]+\) cannot import torch: No module named 'torch'/);
  assert.ok(r.stderr.includes(INSTALL_DEBIAN) && r.stderr.includes(INSTALL_PIP), r.stderr);
  assert.equal(existsSync(runDir), false);
});

test("Debian's python3 with torch 1.13 but no safetensors (what python-env.sh leaves outside its venv): exit 2 naming safetensors", () => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch\ntry:\n import safetensors\nexcept ImportError:\n print("no-safetensors")'], { encoding: 'utf8' });
  assert.equal(probe.stdout.trim(), 'no-safetensors', 'precondition: /usr/bin/python3 has Debian torch and no safetensors');
  const runDir = join(dir, 'run-no-safetensors');
  // The extension's setting is the third choice; it is used when neither --python nor RECLAB_PYTHON is given.
  const r = reclab(['train', '--engine', 'torch', '--run-dir', runDir], { RECLAB_PYTHON_SETTING: '/usr/bin/python3' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /\/usr\/bin\/python3 \(from reclab\.pythonPath\).*cannot import safetensors/);
  assert.ok(r.stderr.includes('pip install safetensors'), r.stderr);
  assert.equal(existsSync(runDir), false);
});

test('--gpus and --python belong to the torch engine: refused with the TF.js engine, exit 2', () => {
  const runDir = join(dir, 'run-gpus-tfjs');
  const r = reclab(['train', '--gpus', '2', '--run-dir', runDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--gpus: only with the torch engine/);
  const bad = reclab(['train', '--engine', 'jax', '--run-dir', runDir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--engine: unknown engine "jax" \(known: tfjs, torch\)/);
  assert.equal(existsSync(runDir), false);
});

test('--device and --dtype: the worker\'s rules (reclab/devices.py) checked against what the probed torch sees', () => {
  const cpuOnly: PythonInfo = { python: '/venv/bin/python', pythonVersion: '3.11.2', torch: '1.13.1', cudaDevices: 0, mps: false };
  const gpuBox: PythonInfo = { ...cpuOnly, torch: '2.5.1+cu124', cudaDevices: 2 };
  const mac: PythonInfo = { ...cpuOnly, torch: '2.5.1', mps: true };
  assert.deepEqual(checkTorchDevice(undefined, undefined, cpuOnly), []);
  assert.deepEqual(checkTorchDevice('cpu', 'float32', cpuOnly), ['--device', 'cpu', '--dtype', 'float32']);
  assert.deepEqual(checkTorchDevice('cuda', undefined, gpuBox), ['--device', 'cuda']);
  assert.deepEqual(checkTorchDevice(undefined, 'float32', gpuBox), ['--dtype', 'float32']); // fp32 on CUDA instead of bf16
  assert.deepEqual(checkTorchDevice(undefined, 'bfloat16', gpuBox), ['--dtype', 'bfloat16']); // auto is CUDA there
  assert.deepEqual(checkTorchDevice('mps', 'auto', mac), ['--device', 'mps', '--dtype', 'auto']);
  assert.throws(() => checkTorchDevice('cuda', undefined, cpuOnly), /--device cuda: torch 1\.13\.1 at \/venv\/bin\/python sees no CUDA GPU; use --device cpu/);
  assert.throws(() => checkTorchDevice('mps', undefined, gpuBox), /--device mps: .* reports MPS unavailable/);
  assert.throws(() => checkTorchDevice('cpu', 'bfloat16', gpuBox), /--dtype bfloat16 \(autocast\) is for CUDA; device cpu trains in float32/);
  assert.throws(() => checkTorchDevice(undefined, 'bfloat16', mac), /device mps \(what --device auto finds here\) trains in float32/);
  assert.throws(() => checkTorchDevice('tpu', undefined, gpuBox), /--device: expected auto\|cpu\|cuda\|mps, got "tpu"/);
  assert.throws(() => checkTorchDevice(undefined, 'fp16', gpuBox), /--dtype: expected auto\|bfloat16\|float32, got "fp16"/);
});

test('a CUDA request on this machine (no GPU), bf16 on the CPU, or --device with the TF.js engine: exit 2 before any run directory', () => {
  const python = venvPython();
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' });
  assert.equal(probe.stdout.trim(), 'False', 'precondition: torch sees no CUDA GPU here');
  for (const [args, message] of [
    [['--device', 'cuda'], /--device cuda: torch [0-9.]+\S* at \S+ sees no CUDA GPU/],
    [['--dtype', 'bfloat16'], /--dtype bfloat16 \(autocast\) is for CUDA; device cpu \(what --device auto finds here\) trains in float32/],
    [['--device', 'gpu'], /--device: expected auto\|cpu\|cuda\|mps, got "gpu"/],
  ] as const) {
    const runDir = join(dir, `run-device-${args[1]}`);
    const r = reclab(['train', '--engine', 'torch', ...args, '--run-dir', runDir], { RECLAB_PYTHON: python });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(existsSync(runDir), false);
  }
  const tfjs = reclab(['train', '--device', 'cpu', '--run-dir', join(dir, 'run-device-tfjs')]);
  assert.equal(tfjs.code, 2);
  assert.match(tfjs.stderr, /--device: only with the torch engine/);
});

test('"engine" in a config file is validated like every field', () => {
  const path = join(dir, 'bad-engine.reclab.json');
  writeFileSync(path, JSON.stringify({ extends: 'sudoku4', engine: 'pytorch' }));
  const r = reclab(['train', '--config', path, '--run-dir', join(dir, 'run-bad-engine')]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(path) && r.stderr.includes('engine'), r.stderr);
});

test('Python is chosen from --python, then RECLAB_PYTHON, then the reclab.pythonPath setting, then python3 on PATH', () => {
  const env = { RECLAB_PYTHON: '/env/python', RECLAB_PYTHON_SETTING: '/setting/python' };
  assert.deepEqual(choosePython('/flag/python', env), { python: '/flag/python', source: '--python' });
  assert.deepEqual(choosePython(undefined, env), { python: '/env/python', source: 'RECLAB_PYTHON' });
  assert.deepEqual(choosePython(undefined, { RECLAB_PYTHON_SETTING: '/setting/python' }), { python: '/setting/python', source: 'reclab.pythonPath' });
  assert.deepEqual(choosePython(undefined, {}), { python: 'python3', source: 'PATH' });
});

test('torch versions below 1.13 are too old; local and CUDA builds of 1.13+ are not', () => {
  for (const v of ['1.12.1', '1.9.0+cu111', '0.4.1', 'garbage']) assert.equal(torchVersionTooOld(v), true, v);
  for (const v of ['1.13.0a0', '1.13.1+cpu', '2.0.0', '2.5.1+cu124', '10.0']) assert.equal(torchVersionTooOld(v), false, v);
});

test('OPENBLAS_CORETYPE from the CPU flags: avx512f -> SkylakeX, avx2 -> Haswell, neither -> unset; a user value wins', () => {
  assert.equal(openblasCoreType('processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512dq\n'), 'SkylakeX');
  assert.equal(openblasCoreType('flags\t\t: fpu sse2 avx avx2 fma\n'), 'Haswell');
  assert.equal(openblasCoreType('flags\t\t: fpu sse2\n'), undefined);
  assert.equal(openblasCoreType(undefined), undefined);
  const env = workerEnvironment({ OPENBLAS_CORETYPE: 'Zen', PYTHONPATH: '/mine' }, '/repo/engines/torch');
  assert.equal(env['OPENBLAS_CORETYPE'], 'Zen');
  assert.equal(env['PYTHONPATH'], '/repo/engines/torch:/mine');
});

test('the task-data file reads back through the safetensors library: same puzzles, valid Sudoku, metadata per the interface', () => {
  const cfg = presets['sudoku9']!;
  const data = loadTaskData({ ...cfg.data, trainPuzzles: 40, testPerBlank: 3 } as typeof cfg.data, 7);
  const path = join(dir, 'task-data.safetensors');
  writeTaskDataFile(path, data);
  // The test set as the TS loader made it (grouped by blank count), for Python to compare with.
  const expected = { test: data.test.map((p) => ({ q: [...p.question], a: [...p.answer], blanks: p.blanks })), train: data.trainGroups.map((g) => [...g[0]!.question]) };
  writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
  const script = `
import json, sys, numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
path, exp = sys.argv[1], json.load(open(sys.argv[2]))
t = load_file(path)
with safe_open(path, "np") as f:
    md = f.metadata()
meta = json.loads(md["reclab.meta"])
assert md["reclab.format"] == "reclab-weights" and md["reclab.format_version"] == "2", md
assert meta == {"kind": "reclab-task-data", "side": 9, "vocabSize": 11, "seqLen": 81, "augmentOnTheFly": True}, meta
assert {k: (str(v.dtype), v.shape) for k, v in t.items()} == {
    "train/questions": ("uint8", (40, 81)), "train/solutions": ("uint8", (40, 81)), "train/group_offsets": ("int32", (41,)),
    "test/questions": ("uint8", (63, 81)), "test/solutions": ("uint8", (63, 81)), "test/blanks": ("int32", (63,))}
assert t["train/group_offsets"].tolist() == list(range(41))
def valid_solution(g):
    g = g.reshape(9, 9).astype(int)
    units = list(g) + list(g.T) + [g[r:r+3, c:c+3].ravel() for r in (0, 3, 6) for c in (0, 3, 6)]
    return all(sorted(u) == list(range(1, 10)) for u in units)
for q, s in ((t["train/questions"], t["train/solutions"]), (t["test/questions"], t["test/solutions"])):
    for qi, si in zip(q, s):
        assert valid_solution(si)
        assert ((qi == 0) | (qi == si)).all(), "a given differs from the solution"
blanks = (t["test/questions"] == 0).sum(axis=1)
assert (blanks == t["test/blanks"]).all()
assert sorted(set(blanks.tolist())) == list(range(25, 46)) and all((blanks == b).sum() == 3 for b in range(25, 46))
train_blanks = (t["train/questions"] == 0).sum(axis=1)
assert train_blanks.min() >= 20 and train_blanks.max() <= 50
assert t["test/questions"].tolist() == [p["q"] for p in exp["test"]] and t["test/solutions"].tolist() == [p["a"] for p in exp["test"]]
assert t["train/questions"].tolist() == exp["train"]
print("ok")
`;
  const r = spawnSync(venvPython(), ['-c', script, path, join(dir, 'expected.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});
