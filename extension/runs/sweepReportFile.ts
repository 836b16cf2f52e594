// A sweep folder's report as the Sweep Report panel shows it: ablation.json read and checked, its
// content rendered by the code that writes ablation.html. No vscode import.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkSweepFile, sweepReportFile, type ToSweepReportMessage } from '../../protocol/sweepReportMessages';
import type { ArmSummary, RunResult } from '../../trainer/ablation/ablationResults';
import { reportBody, type SweepDescription } from '../../trainer/ablation/ablationReport';

/** The report message of sweep folder `dir`, or why there is none. */
export async function sweepReportMessage(dir: string): Promise<ToSweepReportMessage> {
  const file = join(dir, sweepReportFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { type: 'missing', sweepKey: dir, message: `${file}: no report yet (reclab ablate writes it when every run of the sweep has finished)` };
  }
  try {
    const json: unknown = JSON.parse(text);
    checkSweepFile(json);
    const { sweep, arms, runs } = json as { sweep: SweepDescription; arms: ArmSummary[]; runs: RunResult[] };
    return { type: 'report', sweepKey: dir, title: `Sweep ${basename(dir)}`, html: reportBody(arms, runs, sweep), runKeys: runs.map((r) => r.runDir) };
  } catch (e) {
    return { type: 'missing', sweepKey: dir, message: `${file}: ${(e as Error).message}` };
  }
}
