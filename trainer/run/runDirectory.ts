// Creating, reading and appending to a run directory (protocol/runDirectory.ts has the layout).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../protocol/config';
import { EVENTS_FORMAT_VERSION, type EventPayload, type TrainerEvent } from '../../protocol/events';
import { checkpointFileName, runFiles, stepOfCheckpointFile, type RunMetadata, type RunSummary } from '../../protocol/runDirectory';
import { writeFileAtomic } from './atomicWrite';

export interface RunConfigFile {
  metadata: RunMetadata;
  config: RunConfig;
}

/** A short sortable id: 20261129-153012-sudoku4. */
export function newRunId(label: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}`;
}

export class RunDirectory {
  constructor(readonly path: string) {}

  /** Makes a new run directory; refuses one that already holds a run. */
  static create(path: string, file: RunConfigFile): RunDirectory {
    if (existsSync(join(path, runFiles.config))) throw new Error(`${path} already holds a run (use "reclab resume ${path}")`);
    mkdirSync(join(path, runFiles.checkpoints), { recursive: true });
    const dir = new RunDirectory(path);
    writeFileAtomic(join(path, runFiles.config), JSON.stringify(file, null, 2) + '\n');
    return dir;
  }

  static open(path: string): RunDirectory {
    if (!existsSync(join(path, runFiles.config))) throw new Error(`${path}: not a run directory (no ${runFiles.config})`);
    return new RunDirectory(path);
  }

  readConfigFile(): RunConfigFile {
    const p = join(this.path, runFiles.config);
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as RunConfigFile;
    } catch (e) {
      throw new Error(`${p}: cannot read run config: ${(e as Error).message}`);
    }
  }

  /** Rewrites config.json whole (atomically), e.g. a resume with a new step count for the torch worker. */
  writeConfigFile(file: RunConfigFile): void {
    writeFileAtomic(join(this.path, runFiles.config), JSON.stringify(file, null, 2) + '\n');
  }

  /** Appends one event line; each line is written whole by one append call. */
  appendEvent(e: EventPayload): TrainerEvent {
    const event = { v: EVENTS_FORMAT_VERSION, time: Date.now(), ...e } as TrainerEvent;
    appendFileSync(join(this.path, runFiles.events), JSON.stringify(event) + '\n');
    return event;
  }

  checkpointPath(step: number): string {
    return join(this.path, runFiles.checkpoints, checkpointFileName(step));
  }

  /** The highest-step complete checkpoint (temporary files never match the name pattern). */
  latestCheckpoint(): { step: number; path: string } | undefined {
    const dir = join(this.path, runFiles.checkpoints);
    if (!existsSync(dir)) return undefined;
    let best: { step: number; path: string } | undefined;
    for (const name of readdirSync(dir)) {
      const step = stepOfCheckpointFile(name);
      if (step !== undefined && (!best || step > best.step)) best = { step, path: join(dir, name) };
    }
    return best;
  }

  writeSummary(summary: RunSummary): void {
    writeFileAtomic(join(this.path, runFiles.summary), JSON.stringify(summary, null, 2) + '\n');
  }
}
