// reclab export-tb <run-dir> [--out DIR] [--json]: the run's scalars as a TensorBoard event file,
// so the run opens in TensorBoard (`tensorboard --logdir DIR`) and W&B imports it
// (`wandb sync --sync-tensorboard DIR`). Re-exporting replaces the previous export in DIR.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runFiles } from '../../protocol/runDirectory';
import { readEvents } from '../ablation/ablationResults';
import { writeFileAtomic } from '../run/atomicWrite';
import { runScalars } from './runScalars';
import { fileVersionEvent, scalarEvent, tfRecord } from './tfRecord';

export const exportTbUsage = 'reclab export-tb <run-dir> [--out DIR (default <run-dir>/tensorboard)] [--json]';

/** Our exports end in this suffix, so a re-export removes only files we wrote. */
const EXPORT_SUFFIX = '.reclab';

export interface TbExport {
  path: string;
  tags: number;
  scalars: number;
}

export function exportTensorBoard(runDir: string, outDir = join(runDir, 'tensorboard')): TbExport {
  if (!existsSync(join(runDir, runFiles.config))) throw new Error(`${runDir}: not a run directory (no ${runFiles.config})`);
  const scalars = runScalars(readEvents(runDir));
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`${outDir}: exists and is not a directory`);
  mkdirSync(outDir, { recursive: true });
  const now = Date.now() / 1000;
  const records: Buffer[] = [tfRecord(fileVersionEvent(now))];
  let count = 0;
  for (const [tag, points] of scalars) {
    for (const p of points) records.push(tfRecord(scalarEvent(p.wallTime, p.step, tag, p.value)));
    count += points.length;
  }
  const name = `events.out.tfevents.${Math.floor(now)}.${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}${EXPORT_SUFFIX}`;
  const path = join(outDir, name);
  writeFileAtomic(path, records);
  for (const old of readdirSync(outDir)) {
    if (old !== name && old.startsWith('events.out.tfevents.') && old.endsWith(EXPORT_SUFFIX)) rmSync(join(outDir, old), { force: true });
  }
  return { path, tags: scalars.size, scalars: count };
}

export function exportTbCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`reclab export-tb: ${(e as Error).message}\nusage: ${exportTbUsage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${exportTbUsage}\n`);
    return 0;
  }
  const [runDir, ...extra] = parsed.positionals;
  if (!runDir || extra.length > 0) {
    process.stderr.write(`reclab export-tb: give exactly one run directory\nusage: ${exportTbUsage}\n`);
    return 2;
  }
  try {
    const r = exportTensorBoard(resolve(runDir), parsed.values.out && resolve(parsed.values.out));
    process.stdout.write(parsed.values.json ? JSON.stringify(r) + '\n' : `${r.scalars} scalars in ${r.tags} tags -> ${r.path}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`reclab export-tb: ${(e as Error).message}\n`);
    return 2;
  }
}
