// The cluster settings of `reclab ablate --executor slurm`: a JSON file (`--slurm-config FILE`)
// and flags on top of it (a flag wins). Checked strictly: an unknown or ill-typed field is an
// error naming the file and the field, before anything is submitted.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../configResolution';

const sbatchValue = z.string().min(1).regex(/^[^\n\r]*$/, 'one line');

export const slurmSettingsSchema = z.object({
  partition: sbatchValue.optional().describe('#SBATCH --partition'),
  gpusPerTask: z.number().int().min(0).optional().describe('#SBATCH --gpus-per-task (0 or absent: none)'),
  cpusPerTask: z.number().int().min(1).optional().describe('#SBATCH --cpus-per-task (default 1)'),
  mem: sbatchValue.optional().describe('#SBATCH --mem, e.g. "4G"'),
  time: sbatchValue.regex(/^[0-9:-]+$/, 'a Slurm time such as 30, 2:00:00 or 1-00:00:00').optional().describe('#SBATCH --time'),
  concurrency: z.number().int().min(1).optional().describe('At most this many tasks at once: the array\'s %N'),
  jobName: sbatchValue.regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-", "."').optional(),
  sbatch: z.array(sbatchValue).default([]).describe('Extra #SBATCH lines, e.g. "--account=lab" or "--qos=short"'),
  setup: z.array(sbatchValue).default([]).describe('Shell lines run before the trainer, e.g. "module load cuda/12.1", "source ~/venv/bin/activate"'),
  node: sbatchValue.optional().describe('The node executable on the compute nodes (default: the one running reclab ablate)'),
  checkpointEvery: z.number().int().min(1).optional().describe('Checkpoint every N steps, so a requeued task resumes (default: every evaluation)'),
}).strict();

export type SlurmSettings = z.infer<typeof slurmSettingsSchema>;

/** The settings file (if any) with the flags' values on top. */
export function resolveSlurmSettings(file: string | undefined, flags: Partial<SlurmSettings>): SlurmSettings {
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`${file}: cannot read the Slurm settings (${(e as Error).message})`);
    }
    try {
      fromFile = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
    }
  }
  const merged = { ...(fromFile as object) } as Record<string, unknown>;
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    merged[k] = Array.isArray(v) ? [...((merged[k] as unknown[] | undefined) ?? []), ...v] : v;
  }
  const r = slurmSettingsSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`${file ?? 'Slurm flags'}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}
