// Slurm's own client commands (sbatch, squeue, sacct, scancel), run as child processes, with
// their output parsed here and nowhere else. We write no scheduler: these are the whole interface.
import { spawnSync } from 'node:child_process';

export interface CommandResult { ok: boolean; stdout: string; stderr: string }

function slurm(command: string, args: string[], cwd?: string): CommandResult {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, cwd });
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found: run this on a Slurm login node (or load Slurm\'s module first)' : r.error.message;
    return { ok: false, stdout: '', stderr: `${command}: ${why}` };
  }
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Submits a batch script as an array job; returns the job id. */
export function sbatchArray(script: string, array: string, cwd: string): string {
  const r = slurm('sbatch', ['--parsable', `--array=${array}`, script], cwd);
  if (!r.ok) throw new Error(`sbatch refused the sweep: ${r.stderr || 'no reason given'}`);
  // --parsable prints "jobid" or "jobid;cluster".
  const id = r.stdout.trim().split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new Error(`sbatch: unexpected output "${r.stdout.trim()}"`);
  return id;
}

export function scancel(ids: string[]): void {
  const r = slurm('scancel', ids);
  if (!r.ok) throw new Error(`scancel ${ids.join(' ')}: ${r.stderr || 'failed'}`);
}

/** One array task as the scheduler reports it. */
export interface SchedulerTask { jobId: string; index: number; state: string; reason?: string; source: 'squeue' | 'sacct' }

/** "123_4" -> job 123, index 4 (pending tasks not yet split are listed one by one with -r). */
function splitTaskId(id: string): { jobId: string; index: number } | undefined {
  const m = /^(\d+)_(\d+)$/.exec(id.trim());
  return m ? { jobId: m[1]!, index: Number(m[2]) } : undefined;
}

/**
 * Parses `squeue -h -t all -r -o '%i|%T|%r'` and `sacct -n -X -P -o JobID,State,Reason`: one
 * "<job>_<index>|STATE|Reason" line per array task ("CANCELLED by 0" is CANCELLED; "None" no reason).
 */
export function parseTaskLines(text: string, source: SchedulerTask['source']): SchedulerTask[] {
  const out: SchedulerTask[] = [];
  for (const line of text.split('\n')) {
    const [id, state, reason] = line.split('|');
    const t = id && splitTaskId(id);
    if (!t || !state) continue;
    out.push({ ...t, state: state.trim().split(' ')[0]!, reason: reason && reason.trim() !== 'None' ? reason.trim() : undefined, source });
  }
  return out;
}

/** The tasks squeue still knows (live ones, and finished ones for MinJobAge). */
export function squeueTasks(jobIds: string[]): SchedulerTask[] {
  const out: SchedulerTask[] = [];
  // One call per job: squeue refuses the whole list when one id has left the controller.
  for (const j of jobIds) {
    const r = slurm('squeue', ['-h', '-t', 'all', '-r', '-j', j, '-o', '%i|%T|%r']);
    if (r.ok) out.push(...parseTaskLines(r.stdout, 'squeue'));
  }
  return out;
}

/** The accounting database's records, or undefined when there is none (sacct fails then). */
export function sacctTasks(jobIds: string[]): SchedulerTask[] | undefined {
  const r = slurm('sacct', ['-n', '-X', '-P', '-j', jobIds.join(','), '-o', 'JobID,State,Reason']);
  return r.ok ? parseTaskLines(r.stdout, 'sacct') : undefined;
}
