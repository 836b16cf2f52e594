// Every run the window knows: the run directories under the workspace's runs folders (started
// here, from a terminal, or on a cluster writing to shared storage) and the trainers this window
// supervises. A run's events come from its events.jsonl (polled) and, while this window runs its
// trainer, from the live RPC channel; EventMerger makes one stream of the two. No vscode import.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { hostname } from 'node:os';
import { annotationsFile, type RunAnnotations } from '../../protocol/runAnnotations';
import { HEARTBEAT_STALE_MS, heartbeatAgeMs, parseTrainerRecord, runFiles, type RunMetadata, type RunSummary } from '../../protocol/runDirectory';
import type { RunDescriptor, RunStatus } from '../../protocol/webviewMessages';
import { EventMerger } from './eventMerger';
import { EventsFileTail } from './eventsFileTail';
import { readRunAnnotations } from './runAnnotationsFile';
import { RunSeries } from './runSeries';
import { processRunning } from '../trainer/processTree';
import { armOf } from './runTableRows';
import { TrainerProcess, type TrainerLaunch } from '../trainer/trainerProcess';

export interface RegistryLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RegistryOptions {
  /** Absolute paths of the folders that hold run directories. */
  roots(): string[];
  log: RegistryLog;
  /** A run without summary.json and without trainer.json whose files have not changed for this long is shown as failed (interrupted). */
  staleAfterMs?: number;
  /** How often the runs folders are listed and live runs' events.jsonl read. */
  pollMs?: number;
}

export class RunEntry {
  /** The folder of runs it belongs to (an ablation sweep), if it is not directly in a runs folder. */
  group?: string;
  runId: string;
  name: string;
  preset?: string;
  metadata?: RunMetadata;
  summary?: RunSummary;
  process?: TrainerProcess;
  /** Why it failed, when known: exit code, signal, interrupted. */
  failure?: string;
  /** The trainer refused to start it (bad config or data; nothing was written): why. Such an entry leaves the registry. */
  refused?: string;
  /** Tags and note (annotations.json), when the run has any. */
  annotations?: RunAnnotations;
  /** annotations.json could not be read: why. */
  annotationsError?: string;
  private annotationsMtime = 0;
  lastChangeMs = 0;
  series?: RunSeries;
  tail?: EventsFileTail;
  merger?: EventMerger;
  /** Panels showing it. */
  retainers = 0;
  /** The exit of `process` has been processed (last lines read, summary checked). */
  exitHandled = false;
  private summaryMtime = 0;
  private configRead = false;

  constructor(readonly key: string) {
    this.runId = basename(key);
    this.name = this.runId;
  }

  get status(): RunStatus {
    const f = this.series?.figures;
    if (this.process?.running) return f?.started ? 'running' : 'starting';
    if (f?.done) return f.done;
    if (this.summary) return this.summary.status;
    // A trainer that exited without `done`: failed, once its last lines are read (they may hold it).
    if (this.process) return this.exitHandled ? 'failed' : f?.started ? 'running' : 'starting';
    return this.failure ? 'failed' : 'running';
  }

  /** True while events may still arrive. */
  get live(): boolean {
    const s = this.status;
    return s === 'running' || s === 'starting';
  }

  get descriptor(): RunDescriptor {
    const d: RunDescriptor = { key: this.key, runId: this.runId, name: this.name, status: this.status };
    if (this.preset) d.preset = this.preset;
    const step = this.step;
    if (step !== undefined && Number.isSafeInteger(step) && step >= 0) d.step = step;
    const total = this.series?.figures.totalSteps;
    if (total !== undefined) d.totalSteps = total;
    const arm = this.group ? armOf(basename(this.key)) : undefined;
    if (arm) d.arm = arm;
    return d;
  }

  get step(): number | undefined {
    return this.series?.figures.started ? this.series.figures.step : this.summary?.steps;
  }

  get bestExactAccuracy(): number | undefined {
    return this.series?.figures.bestExactAccuracy ?? this.summary?.bestExactAccuracy;
  }

  /** The next refreshFiles reads summary.json again, changed or not. */
  forgetSummary(): void {
    this.summaryMtime = 0;
  }

  /** Reads config.json once and summary.json whenever it changes. Returns true if something changed. */
  async refreshFiles(): Promise<boolean> {
    let changed = false;
    if (!this.configRead) {
      const file = await readJson<{ metadata?: RunMetadata; config?: { name?: string } }>(join(this.key, runFiles.config));
      if (file) {
        this.configRead = true;
        this.metadata = file.metadata;
        if (file.metadata?.runId) this.runId = file.metadata.runId;
        this.name = file.config?.name ?? this.runId;
        this.preset = file.metadata?.preset;
        changed = true;
      }
    }
    const st = await statOrUndefined(join(this.key, runFiles.summary));
    if (st && st.mtimeMs !== this.summaryMtime) {
      const s = await readJson<RunSummary>(join(this.key, runFiles.summary));
      if (s) {
        this.summaryMtime = st.mtimeMs;
        this.summary = s;
        changed = true;
      }
    }
    const an = await statOrUndefined(join(this.key, annotationsFile));
    if ((an?.mtimeMs ?? 0) !== this.annotationsMtime) {
      this.annotationsMtime = an?.mtimeMs ?? 0;
      try {
        this.annotations = an ? await readRunAnnotations(this.key) : undefined;
        this.annotationsError = undefined;
      } catch (e) {
        this.annotations = undefined;
        this.annotationsError = (e as Error).message;
      }
      changed = true;
    }
    const ev = await statOrUndefined(join(this.key, runFiles.events));
    const cfg = await statOrUndefined(join(this.key, runFiles.config));
    this.lastChangeMs = Math.max(ev?.mtimeMs ?? 0, cfg?.mtimeMs ?? 0, st?.mtimeMs ?? 0);
    return changed;
  }
}

type Listener<T> = (value: T) => void;

export class RunRegistry {
  private readonly entries = new Map<string, RunEntry>();
  private readonly changeListeners = new Set<Listener<RunEntry | undefined>>();
  private readonly dataListeners = new Set<Listener<RunEntry>>();
  private readonly dirtyData = new Set<RunEntry>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling: Promise<void> | undefined;
  private readonly staleAfterMs: number;

  constructor(private readonly options: RegistryOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
  }

  /** Starts polling. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 500);
    void this.poll();
  }

  get runs(): RunEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  }

  get(key: string): RunEntry | undefined {
    return this.entries.get(key);
  }

  /** Called with the entry that changed (status, step, files), or undefined when the list changed. */
  onDidChange(listener: Listener<RunEntry | undefined>): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called (batched per tick) when a run's step or eval tables changed. */
  onDidChangeData(listener: Listener<RunEntry>): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  /** One poll: list the runs folders, refresh files, read the events of live and shown runs. */
  poll(): Promise<void> {
    if (!this.polling) this.polling = this.pollNow().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Loads a run's events (for a panel) and keeps them current until released. */
  async retain(key: string): Promise<RunEntry> {
    const entry = this.entries.get(key) ?? this.add(key);
    entry.retainers++;
    this.ensureSeries(entry);
    await entry.refreshFiles();
    await entry.tail!.read();
    return entry;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.retainers = Math.max(0, entry.retainers - 1);
    if (entry.retainers === 0 && !entry.live && !entry.process?.running) {
      // Free the tables of a finished run nobody shows; the tree keeps its summary.
      entry.series = undefined;
      entry.tail = undefined;
      entry.merger = undefined;
    }
  }

  /**
   * Starts a trainer writing to `runDir` and supervises it. Events stream from the RPC channel
   * and from events.jsonl; the entry is failed the moment the process exits without `done`.
   */
  async launch(runDir: string, launch: Omit<TrainerLaunch, 'rpc'>, onExit?: (entry: RunEntry) => void): Promise<RunEntry> {
    const entry = this.entries.get(runDir) ?? this.add(runDir);
    if (entry.process?.running) throw new Error(`${entry.runId} is already running`);
    this.ensureSeries(entry);
    await entry.tail!.read(); // a resumed run: everything before this process
    entry.merger!.startLive(entry.tail!.nextWriterLine); // past a torn last line, which the trainer ends first
    entry.failure = undefined;
    entry.refused = undefined;
    entry.summary = undefined;
    entry.exitHandled = false;
    entry.series!.figures.done = undefined;
    entry.series!.figures.started = false;
    const proc = new TrainerProcess({ ...launch, rpc: true });
    entry.process = proc;
    proc.onEvent((e) => entry.merger?.liveEvent(e));
    proc.onStderrLine((line) => this.options.log.info(`[${entry.runId}] ${line}`));
    this.options.log.info(`[${entry.runId}] started: ${[launch.cli, ...launch.args, '--rpc'].join(' ')} (pid ${proc.pid ?? '?'}, cwd ${launch.cwd})`);
    this.fireChange(undefined);
    void proc.exited.then(async (exit) => {
      await entry.tail?.read().catch(() => 0);
      const torn = entry.tail?.finish();
      if (torn !== undefined) entry.merger?.tornLine(torn);
      // Exit 2 = the trainer refused the command (bad config or data, a run locked by another
      // trainer) and changed nothing: a new run leaves the registry, a refused resume keeps its state.
      if (exit.code === 2) {
        const reason = proc.lastStderr.filter((l) => l.trim() && !/^\s*(usage:|reclab (train|resume|eval|ablate)\s+\[)/.test(l))[0];
        entry.refused = (reason ?? 'exit code 2').replace(/^reclab \w+: /, '');
        entry.process = undefined;
        entry.forgetSummary();
        if (!(await statOrUndefined(join(runDir, runFiles.config)))) this.entries.delete(runDir);
      }
      await entry.refreshFiles().catch(() => false);
      if (!entry.refused && !entry.series?.figures.done && !entry.summary) {
        entry.failure = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      }
      entry.exitHandled = true;
      this.options.log.info(`[${entry.runId}] trainer exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}${exit.killed ? `, process tree killed: ${exit.killReason ?? 'kill requested'}` : ''}); run ${entry.status}`);
      this.fireChange(entry);
      onExit?.(entry);
    });
    return entry;
  }

  /**
   * Graceful stop of every trainer this window runs (deactivation, reload): each gets the stop
   * request, and this waits up to `timeoutMs` for them. One still in a long step is not killed:
   * it has its stop request (and its stdin closes with this host), so it checkpoints and exits
   * by itself at its next safe point.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    const running = this.runs.filter((r) => r.process?.running);
    for (const r of running) r.process!.requestStop();
    await Promise.race([Promise.all(running.map((r) => r.process!.exited)), new Promise((res) => setTimeout(res, timeoutMs).unref?.())]);
    for (const r of running) {
      if (r.process!.running) this.options.log.info(`[${r.runId}] still in its step after ${timeoutMs / 1000} s; not killed: it checkpoints and exits by itself (pid ${r.process!.pid ?? '?'})`);
    }
  }

  /** Deletes a run directory (not while it trains). */
  async delete(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry?.process?.running) throw new Error(`${entry.runId} is training; stop it first`);
    await rm(key, { recursive: true, force: true });
    this.entries.delete(key);
    this.fireChange(undefined);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // A trainer already asked to stop is saving its work; any other is killed.
    for (const e of this.entries.values()) if (e.process?.running && !e.process.stopping) void e.process.kill();
  }

  private add(key: string): RunEntry {
    const entry = new RunEntry(key);
    this.entries.set(key, entry);
    return entry;
  }

  private ensureSeries(entry: RunEntry): void {
    if (entry.series) return;
    const series = new RunSeries();
    const merger = new EventMerger(
      (e) => {
        series.apply(e);
        this.markData(entry);
      },
      (m) => this.options.log.warn(m),
      entry.runId,
    );
    entry.series = series;
    entry.merger = merger;
    entry.tail = new EventsFileTail(join(entry.key, runFiles.events), merger);
  }

  private markData(entry: RunEntry): void {
    if (this.dirtyData.size === 0) {
      setImmediate(() => {
        const dirty = [...this.dirtyData];
        this.dirtyData.clear();
        for (const e of dirty) for (const l of this.dataListeners) l(e);
      });
    }
    this.dirtyData.add(entry);
  }

  private async pollNow(): Promise<void> {
    let listChanged = false;
    const seen = new Set<string>();
    const isRun = async (dir: string) => !!(await statOrUndefined(join(dir, runFiles.config))) || !!(await statOrUndefined(join(dir, runFiles.events)));
    const found = async (key: string, group: string | undefined) => {
      seen.add(key);
      if (this.entries.has(key)) return;
      this.add(key).group = group;
      listChanged = true;
    };
    for (const root of this.options.roots()) {
      for (const name of await subdirectories(root)) {
        const dir = join(root, name);
        if (this.entries.has(dir) || (await isRun(dir))) {
          await found(dir, undefined);
          continue;
        }
        // A folder of runs (an ablation sweep writes runs/ablation-<stamp>/<arm>-seed<k>/).
        for (const inner of await subdirectories(dir)) {
          const key = join(dir, inner);
          if (this.entries.has(key) || (await isRun(key))) await found(key, dir);
        }
      }
    }
    for (const [key, e] of this.entries) {
      if (!seen.has(key) && !e.process?.running && e.retainers === 0) {
        this.entries.delete(key);
        listChanged = true;
      }
    }
    const changed: RunEntry[] = [];
    for (const e of this.entries.values()) {
      const before = `${e.name}|${e.status}|${e.step}|${e.bestExactAccuracy}|${e.failure}`;
      try {
        await e.refreshFiles();
        if (!e.summary || e.process?.running || e.retainers > 0) {
          if (!e.summary && !e.process) this.ensureSeries(e); // external and unfinished: follow it
          if (e.tail) await e.tail.read();
        }
        if (!e.process && !e.summary && !e.series?.figures.done) e.failure = await interruption(e, this.staleAfterMs);
      } catch (err) {
        this.options.log.warn(`${e.runId}: ${(err as Error).message}`);
      }
      if (`${e.name}|${e.status}|${e.step}|${e.bestExactAccuracy}|${e.failure}` !== before) changed.push(e);
    }
    if (listChanged) this.fireChange(undefined);
    else for (const e of changed) this.fireChange(e);
  }

  private fireChange(entry: RunEntry | undefined): void {
    for (const l of this.changeListeners) l(entry);
  }
}

/**
 * Why a run that no trainer of this window runs, and that has no summary, is not training any
 * more; undefined while it may be. Its trainer.json (pid + heartbeat) tells in about a second (a
 * pid gone on this host) or HEARTBEAT_STALE_MS (another host); without one (older runs), no
 * change to its files for `staleAfterMs`.
 */
async function interruption(e: RunEntry, staleAfterMs: number): Promise<string | undefined> {
  const text = await readFile(join(e.key, runFiles.trainer), 'utf8').catch(() => undefined);
  const r = text === undefined ? undefined : parseTrainerRecord(text);
  if (!r) return Date.now() - e.lastChangeMs > staleAfterMs ? 'interrupted: no summary and no new events' : undefined;
  if (r.host === hostname() && !processRunning(r.pid)) return `interrupted: its trainer (pid ${r.pid}) is gone`;
  const age = heartbeatAgeMs(r);
  return age > HEARTBEAT_STALE_MS ? `interrupted: no heartbeat from its trainer (pid ${r.pid} on ${r.host}) for ${Math.round(age / 1000)} s` : undefined;
}

export async function subdirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

export async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
