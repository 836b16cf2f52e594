// The PyTorch engine's own tests (engines/torch/tests, pytest) as part of `npm test`: installs what
// the engine needs where missing (test/setup/python-env.sh: Debian torch 1.13 + OpenBLAS-openmp and a
// venv with the pinned PyPI packages), then runs pytest in that venv and fails when any test fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { workerEnvironment } from '../../trainer/engines/workerEnvironment';

const repo = resolve(__dirname, '../..');

test('engines/torch/tests pass under pytest in the CI Python environment', () => {
  const python = execFileSync('bash', [resolve(repo, 'test/setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'engines/torch/tests'], {
    cwd: repo, encoding: 'utf8', timeout: 1_800_000,
    // The environment the worker gets (OpenBLAS's core type, the engine on PYTHONPATH).
    env: workerEnvironment(process.env, resolve(repo, 'engines/torch')),
  });
  process.stdout.write(r.stdout.split('\n').slice(-15).join('\n') + '\n');
  assert.equal(r.status, 0, `pytest failed (exit ${r.status}):\n${r.stdout.slice(-8000)}\n${r.stderr.slice(-4000)}`);
  assert.match(r.stdout, /\d+ passed/);
});
