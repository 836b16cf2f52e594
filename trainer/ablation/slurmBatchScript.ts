// The batch script of a Slurm sweep: one array task = one ordinary headless run of the sweep.
// A task whose run directory has a checkpoint resumes it (so a requeued, preempted or re-run
// task continues, not restarts); it writes an exit file the status reads when Slurm has no
// accounting database, and the task that finishes last builds the sweep's report.
import type { SlurmTask } from '../../protocol/slurmSweep';
import { slurmSweepFiles } from '../../protocol/slurmSweep';
import type { SlurmSettings } from './slurmSettings';

/** Single-quoted for bash. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface BatchScriptInput {
  sweepDir: string;
  tasks: SlurmTask[];
  settings: SlurmSettings;
  node: string;
  cli: string;
  /** Passed to every task's train / resume (e.g. ["--engine", "torch"]). */
  trainerArgs: string[];
  jobName: string;
}

export function batchScript(o: BatchScriptInput): string {
  const s = o.settings;
  const q = shellQuote;
  const sb = [
    `--job-name=${s.jobName ?? o.jobName}`,
    `--output=${o.sweepDir}/${slurmSweepFiles.logDir}/%A_%a.out`,
    '--open-mode=append',
    '--ntasks=1',
    `--cpus-per-task=${s.cpusPerTask ?? 1}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.gpusPerTask ? [`--gpus-per-task=${s.gpusPerTask}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    '--requeue',
    ...s.sbatch.map((l) => l.replace(/^#SBATCH\s+/, '')),
  ];
  const extra = o.trainerArgs.map(q).join(' ');
  return `#!/bin/bash
${sb.map((l) => `#SBATCH ${l}`).join('\n')}
# Written by reclab ablate --executor slurm; submitted as sbatch --array=<indices>[%N] this-file.
# Task i trains (or, when its run directory has a checkpoint, resumes) the run NAMES[i].
set -u
# ---- environment set-up (settings "setup")
${s.setup.length ? s.setup.join('\n') : ':'}
# ----
SWEEP=${q(o.sweepDir)}
NODE=${q(o.node)}
CLI=${q(o.cli)}
NAMES=(${o.tasks.map((t) => q(t.name)).join(' ')})
i=\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch --array}
NAME=\${NAMES[$i]}
RUN="$SWEEP/$NAME"
EXIT_DIR="$SWEEP/${slurmSweepFiles.exitDir}"
mkdir -p "$EXIT_DIR"
rm -f "$EXIT_DIR/$i.json"
echo "reclab task $i ($NAME) on $(hostname), job \${SLURM_ARRAY_JOB_ID}_$i, restart count \${SLURM_RESTART_COUNT:-0}"
# Slurm signals every process of the task (scancel, time limit, preemption): the trainer
# checkpoints and stops by itself; this script only notes that it was terminated.
terminated=false
trap 'terminated=true' TERM
if compgen -G "$RUN/checkpoints/*.ckpt" > /dev/null; then
  echo "resuming $NAME from its last checkpoint"
  "$NODE" "$CLI" resume "$RUN" --quiet ${extra} &
else
  rm -rf "$RUN"    # nothing to keep before the first checkpoint
  echo "training $NAME"
  "$NODE" "$CLI" train --config "$SWEEP/configs/$NAME.reclab.json" --run-dir "$RUN" --quiet ${extra} &
fi
TRAINER=$!
wait "$TRAINER"; code=$?
# A trapped signal interrupts wait: wait for the trainer's own exit (after its checkpoint).
while kill -0 "$TRAINER" 2> /dev/null; do wait "$TRAINER"; code=$?; done
printf '{"jobId":"%s","index":%d,"exitCode":%d,"terminated":%s}\\n' "\${SLURM_ARRAY_JOB_ID}" "$i" "$code" "$terminated" > "$EXIT_DIR/$i.json.tmp"
mv -f "$EXIT_DIR/$i.json.tmp" "$EXIT_DIR/$i.json"
# The last task to end builds the report (reclab ablate --report builds it on demand too).
if [ "$(find "$EXIT_DIR" -name '*.json' | wc -l)" -ge \${#NAMES[@]} ]; then
  "$NODE" "$CLI" ablate --report --out "$SWEEP" --quiet > /dev/null || echo "report: failed (reclab ablate --report --out $SWEEP)"
fi
exit "$code"
`;
}
