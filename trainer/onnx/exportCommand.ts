// reclab export <run-dir> [--checkpoint FILE] [--out FILE] [--json]
import { parseArgs } from 'node:util';
import { exportRun } from './exportRun';

export const exportUsage = 'reclab export  <run-dir> [--checkpoint FILE] [--out FILE] [--json]';

export async function exportCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { checkpoint: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`reclab export: ${(e as Error).message}\nusage: ${exportUsage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${exportUsage}\n`);
    return 0;
  }
  const [runDir, ...extra] = parsed.positionals;
  if (!runDir || extra.length > 0) {
    process.stderr.write(`reclab export: give exactly one run directory\nusage: ${exportUsage}\n`);
    return 2;
  }
  try {
    const r = exportRun(runDir, { checkpoint: parsed.values.checkpoint, out: parsed.values.out });
    process.stdout.write(parsed.values.json ? JSON.stringify(r) + '\n' : `exported step ${r.step} (${r.checkpoint}) to ${r.path}, ${(r.bytes / 1024).toFixed(0)} KiB\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`reclab export: ${(e as Error).message}\n`);
    return 1;
  }
}
