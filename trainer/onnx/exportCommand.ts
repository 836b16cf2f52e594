// reclab export <run-dir> [--checkpoint FILE] [--out FILE] [--deq-iterations K] [--json]
import { parseArgs } from 'node:util';
import { exportRun } from './exportRun';

export const exportUsage = 'reclab export  <run-dir> [--checkpoint FILE] [--out FILE] [--deq-iterations K] [--json]\n  --deq-iterations K  trm-deq, attractor: unroll each solve to K plain fixed-point iterations (default the model\'s deq.maxIter)';

export async function exportCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { checkpoint: { type: 'string' }, out: { type: 'string' }, 'deq-iterations': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
  const kText = parsed.values['deq-iterations'];
  const deqIterations = kText === undefined ? undefined : /^\d+$/.test(kText) ? Number(kText) : NaN;
  if (deqIterations !== undefined && !(Number.isInteger(deqIterations) && deqIterations >= 1 && deqIterations <= 256)) {
    process.stderr.write(`reclab export: --deq-iterations must be an integer 1..256, got ${JSON.stringify(kText)}\nusage: ${exportUsage}\n`);
    return 2;
  }
  try {
    const r = exportRun(runDir, { checkpoint: parsed.values.checkpoint, out: parsed.values.out, deqIterations });
    process.stdout.write(parsed.values.json ? JSON.stringify(r) + '\n' : `exported step ${r.step} (${r.checkpoint}) to ${r.path}, ${(r.bytes / 1024).toFixed(0)} KiB\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`reclab export: ${(e as Error).message}\n`);
    return 1;
  }
}
