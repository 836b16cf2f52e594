// Creating, reading and appending to a run directory (protocol/runDirectory.ts has the layout).
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeIssues, runConfigSchema, type RunConfig } from '../../protocol/config';
import { ConfigError } from '../configResolution';
import { EVENTS_FORMAT_VERSION, type EventPayload, type TrainerEvent } from '../../protocol/events';
import { checkpointFileName, runFiles, stepOfCheckpointFile, type RunMetadata, type RunSummary } from '../../protocol/runDirectory';
import { writeFileAtomic } from './atomicWrite';

/** A run directory refused as it is (a foreign folder for train, no checkpoint to resume from). */
export class RunDirectoryError extends Error {}

export interface CheckpointRef {
  step: number;
  path: string;
}

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

  /** Makes a new run directory; refuses anything but an absent or empty folder. */
  static create(path: string, file: RunConfigFile): RunDirectory {
    RunDirectory.checkCanCreate(path);
    mkdirSync(join(path, runFiles.checkpoints), { recursive: true });
    const dir = new RunDirectory(path);
    writeFileAtomic(join(path, runFiles.config), JSON.stringify(file, null, 2) + '\n');
    return dir;
  }

  /** Throws unless `path` is absent or an empty folder (a run is never trained into foreign files). */
  static checkCanCreate(path: string): void {
    if (!existsSync(path)) return;
    if (!statSync(path).isDirectory()) throw new RunDirectoryError(`${path} exists and is not a folder: give a new or empty folder as the run directory`);
    const names = readdirSync(path);
    if (names.length === 0) return;
    const hint = names.includes(runFiles.config) ? ` (it already holds a run: use "reclab resume ${path}")` : '';
    throw new RunDirectoryError(`${path} is not empty${hint}: train writes only into a new or empty folder (found ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})`);
  }

  static open(path: string): RunDirectory {
    if (!existsSync(join(path, runFiles.config))) throw new Error(`${path}: not a run directory (no ${runFiles.config})`);
    return new RunDirectory(path);
  }

  /** config.json, its config validated against the schema (an edited file is refused naming the field). */
  readConfigFile(): RunConfigFile {
    const p = join(this.path, runFiles.config);
    let file: RunConfigFile;
    try {
      file = JSON.parse(readFileSync(p, 'utf8').replace(/^\uFEFF/, '')) as RunConfigFile;
    } catch (e) {
      throw new ConfigError(`${p}: cannot read run config: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || typeof file.metadata?.runId !== 'string') throw new ConfigError(`${p}: metadata.runId: expected a string`);
    const parsed = runConfigSchema.safeParse(file.config);
    if (!parsed.success) throw new ConfigError(`${p}: ${describeIssues(parsed.error, 'config').join('; ')}`);
    return { metadata: file.metadata, config: parsed.data };
  }

  /** Rewrites config.json whole (atomically), e.g. a resume with a new step count for the torch worker. */
  writeConfigFile(file: RunConfigFile): void {
    writeFileAtomic(join(this.path, runFiles.config), JSON.stringify(file, null, 2) + '\n');
  }

  /**
   * Appends one event line; each line is written whole by one append call. The first append of
   * this writer (and the first after a failed one) starts on a new line when the file ends in a
   * torn line (a killed writer, a full disk), so the fragment stays a line of its own.
   */
  appendEvent(e: EventPayload): TrainerEvent {
    const event = { v: EVENTS_FORMAT_VERSION, time: Date.now(), ...e } as TrainerEvent;
    const path = join(this.path, runFiles.events);
    const lead = this.tailChecked || !endsInTornLine(path) ? '' : '\n';
    this.tailChecked = false;
    appendFileSync(path, lead + JSON.stringify(event) + '\n');
    this.tailChecked = true;
    return event;
  }

  private tailChecked = false;

  checkpointPath(step: number): string {
    return join(this.path, runFiles.checkpoints, checkpointFileName(step));
  }

  /** The complete checkpoints (temporary files never match the name pattern), by step. */
  checkpoints(): CheckpointRef[] {
    const dir = join(this.path, runFiles.checkpoints);
    if (!existsSync(dir)) return [];
    const out: CheckpointRef[] = [];
    for (const name of readdirSync(dir)) {
      const step = stepOfCheckpointFile(name);
      if (step !== undefined) out.push({ step, path: join(dir, name) });
    }
    return out.sort((a, b) => a.step - b.step);
  }

  /** The highest-step complete checkpoint. */
  latestCheckpoint(): CheckpointRef | undefined {
    return this.checkpoints().at(-1);
  }

  /**
   * Moves the checkpoints after `step` into checkpoints/superseded-<time>/ (a resume from an
   * earlier checkpoint: they are kept, never deleted, and no longer count as the run's).
   */
  setAsideCheckpointsAfter(step: number, now = new Date()): { folder: string; moved: CheckpointRef[] } | undefined {
    const later = this.checkpoints().filter((c) => c.step > step);
    if (later.length === 0) return undefined;
    const folder = join(this.path, runFiles.checkpoints, `superseded-${now.toISOString().replace(/[-:.]/g, '')}`);
    mkdirSync(folder, { recursive: true });
    for (const c of later) renameSync(c.path, join(folder, checkpointFileName(c.step)));
    return { folder, moved: later };
  }

  /** Deletes checkpoints/*.tmp-<pid> left by writers that were killed (their pid is gone). */
  removeStaleTemporaryFiles(): string[] {
    const dir = join(this.path, runFiles.checkpoints);
    if (!existsSync(dir)) return [];
    const stale = readdirSync(dir).filter((n) => {
      const pid = /\.tmp-(\d+)$/.exec(n)?.[1];
      return pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
    });
    for (const n of stale) rmSync(join(dir, n), { force: true });
    return stale;
  }

  /**
   * Retention: deletes every checkpoint but the newest `keepLast` and the one at `keepStep` (the
   * best evaluation). keepLast 0 keeps all. The newest is always kept: it is what a resume needs.
   */
  pruneCheckpoints(keepLast: number, keepStep: number | undefined): CheckpointRef[] {
    if (keepLast <= 0) return [];
    const all = this.checkpoints();
    const removed = all.slice(0, -keepLast).filter((c) => c.step !== keepStep);
    for (const c of removed) rmSync(c.path, { force: true });
    return removed;
  }

  writeSummary(summary: RunSummary): void {
    writeFileAtomic(join(this.path, runFiles.summary), JSON.stringify(summary, null, 2) + '\n');
  }
}

/** True when the file exists, is not empty and its last byte is not a newline. */
function endsInTornLine(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
