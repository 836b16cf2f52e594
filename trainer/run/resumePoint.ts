// Which checkpoint `reclab resume` continues from: the latest, verified (format 2 checksums); a
// corrupt latest is refused naming it, the tensor and the newest valid earlier one, which
// `--checkpoint FILE` then selects. Only reads: a refused resume changes nothing.
import { resolve } from 'node:path';
import { readCheckpointFile } from './checkpointFile';
import { RunDirectoryError, type CheckpointRef, type RunDirectory } from './runDirectory';

/** True when the file reads and verifies; else the reason. */
function verify(c: CheckpointRef): string | undefined {
  try {
    readCheckpointFile(c.path);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function chooseResumeCheckpoint(runDir: RunDirectory, requested: string | undefined, command = `reclab resume ${runDir.path}`): CheckpointRef {
  const all = runDir.checkpoints();
  if (requested !== undefined) {
    const path = resolve(requested);
    const chosen = all.find((c) => c.path === path);
    if (!chosen) throw new RunDirectoryError(`--checkpoint ${path}: not one of this run's checkpoints (${runDir.path}/checkpoints/step-*.ckpt)`);
    const bad = verify(chosen);
    if (bad !== undefined) throw new RunDirectoryError(`${bad}\nthis checkpoint is corrupt: nothing was changed`);
    return chosen;
  }
  const latest = all.at(-1);
  if (!latest) throw new RunDirectoryError(`${runDir.path}: no checkpoint to resume from`);
  const bad = verify(latest);
  if (bad === undefined) return latest;
  const previous = all.slice(0, -1).reverse().find((c) => verify(c) === undefined);
  const offer = previous
    ? `the newest valid checkpoint is ${previous.path} (step ${previous.step}): resume from it with\n  ${command} --checkpoint ${previous.path}\n(the later checkpoints are then moved to checkpoints/superseded-<time>/, not deleted)`
    : 'no earlier checkpoint of this run is valid either';
  throw new RunDirectoryError(`the latest checkpoint is corrupt, so resume refuses (nothing was changed):\n${bad}\n${offer}`);
}
