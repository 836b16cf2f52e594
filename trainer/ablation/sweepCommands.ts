// `reclab sweep-status DIR [--json]` and `reclab sweep-cancel DIR [--task NAME|INDEX]`: a Slurm
// sweep's task states (the one command the extension polls) and scancel of a task or the array.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SweepStatus } from '../../protocol/slurmSweep';
import { ConfigError } from '../configResolution';
import { cancelSlurmSweep } from './slurmExecutor';
import { sweepStatus } from './slurmTaskStatus';

export const sweepStatusUsage = 'reclab sweep-status <sweep-dir> [--json]\n  reclab sweep-cancel <sweep-dir> [--task NAME|INDEX]   (no --task: the whole array)';

export function formatSweepStatus(s: SweepStatus): string {
  const rows = s.tasks.map((t) => `${String(t.index).padStart(3)}  ${t.slurmId.padEnd(12)} ${t.name.padEnd(22)} ${t.state.padEnd(10)} ${t.step === undefined ? '' : `step ${t.step}`.padEnd(11)}${t.reason ? ` ${t.reason}` : ''}`);
  return [`sweep ${s.sweepDir}: job ${s.jobId}, ${s.finished}/${s.total} finished${s.accounting ? '' : ' (no accounting database: squeue and exit files)'}`, ...rows].join('\n');
}

/** Parses the flags, prints usage for --help or a missing folder; exit 2 for bad usage or a folder that is no Slurm sweep. */
async function command(name: string, argv: string[], extra: Record<string, { type: 'string' | 'boolean' }>, body: (values: Record<string, string | boolean | undefined>, dir: string) => number): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let dir: string | undefined;
  try {
    const p = parseArgs({ args: argv, options: { ...extra, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    values = p.values as typeof values;
    dir = p.positionals[0];
  } catch (e) {
    process.stderr.write(`reclab ${name}: ${(e as Error).message}\nusage: ${sweepStatusUsage}\n`);
    return 2;
  }
  if (values['help'] || !dir) {
    process.stdout.write(`usage: ${sweepStatusUsage}\n`);
    return values['help'] ? 0 : 2;
  }
  try {
    return body(values, resolve(dir));
  } catch (e) {
    process.stderr.write(`reclab ${name}: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
}

export function sweepStatusCommand(argv: string[]): Promise<number> {
  return command('sweep-status', argv, { json: { type: 'boolean' } }, (values, dir) => {
    const s = sweepStatus(dir);
    process.stdout.write((values['json'] ? JSON.stringify(s) : formatSweepStatus(s)) + '\n');
    return 0;
  });
}

export function sweepCancelCommand(argv: string[]): Promise<number> {
  return command('sweep-cancel', argv, { task: { type: 'string' } }, (values, dir) => {
    const ids = cancelSlurmSweep(dir, values['task'] as string | undefined);
    process.stdout.write(`scancel ${ids.join(' ')}\n`);
    return 0;
  });
}
