// Host ingestion benchmark: how many trainer events per second the extension host takes in and
// forwards to a Live Training panel, and the CPU it spends doing it (target: 10,000 events/s for
// under 10 % of one core). It runs the host's own classes (RunRegistry, TrainerProcess with its
// JSON-RPC channel, EventsFileTail, EventMerger, RunSeries, PanelFeed) against bench/fakeTrainer.mjs,
// a separate process that writes step events at a fixed rate like `reclab train --rpc` does.
// The panel side is replaced by what VS Code's postMessage costs the host: serializing the message
// (JSON for the envelope, the Float64Array columns copied out as binary).
//   npm run bench:host     (or: node --import tsx bench/host-ingest.bench.ts)
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ToWebviewMessage } from '../protocol/webviewMessages';
import { PanelFeed } from '../extension/panels/panelFeed';
import { RunRegistry, type RunEntry } from '../extension/runs/runRegistry';

const fake = resolve('bench/fakeTrainer.mjs');
const recent: string[] = [];
const log = { info: (m: string) => void (recent.push(m) > 20 && recent.shift()), warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };

/** What webview.postMessage costs the host: JSON of the envelope plus a copy of each typed array. */
function serializeLikePostMessage(m: ToWebviewMessage): number {
  const buffers: ArrayBufferView[] = [];
  const json = JSON.stringify(m, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      buffers.push(v);
      return { $$buffer: buffers.length - 1 };
    }
    return v;
  });
  const copy = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
  return json.length + copy.length;
}

interface Result {
  label: string;
  rate: number;
  events: number;
  seconds: number;
  ingestedPerS: number;
  forwardedPerS: number;
  cpuPercent: number;
  messages: number;
  mbPerS: number;
}

async function phase(label: string, rate: number, seconds: number, rpc: boolean): Promise<Result> {
  const ws = mkdtempSync(join(tmpdir(), 'reclab-bench-'));
  const root = join(ws, 'runs');
  const dir = join(root, 'bench-run');
  const registry = new RunRegistry({ roots: () => [root], log, pollMs: 500 });
  let forwardedRows = 0;
  let messages = 0;
  let bytes = 0;
  const feed = new PanelFeed((m) => {
    messages++;
    bytes += serializeLikePostMessage(m);
    if (m.type === 'steps') forwardedRows += m.columns.step.length;
    return Promise.resolve(true);
  }, 'bench');
  registry.onDidChangeData((e) => feed.changed(e.key));
  registry.start();

  let entry: RunEntry;
  let exited: Promise<unknown>;
  const args = ['--run-dir', dir, '--rate', String(rate), '--seconds', String(seconds)];
  if (rpc) {
    entry = await registry.launch(dir, { node: process.execPath, cli: fake, args, cwd: ws });
    exited = entry.process!.exited;
  } else {
    // A run started outside VS Code: the registry finds it in the runs folder and tails it.
    const child = spawn(process.execPath, [fake, ...args], { stdio: 'ignore' });
    exited = new Promise((r) => child.on('exit', r));
    const tStart = Date.now();
    for (;;) {
      await registry.poll();
      const found = registry.get(dir);
      if (found) {
        entry = found;
        break;
      }
      if (Date.now() - tStart > 20_000) throw new Error(`${label}: the run folder never appeared`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await registry.retain(dir);
  feed.add(entry);

  // The measured window: from the first step to the last row forwarded.
  const deadline = Date.now() + 30_000 + seconds * 4000;
  const check = () => {
    if (Date.now() > deadline || entry.status === 'failed') throw new Error(`${label}: the fake trainer failed or stalled (${entry.status}, ${entry.series?.steps.length ?? 0} steps)\n${recent.join('\n')}`);
  };
  while (!entry.series || entry.series.steps.length === 0) {
    check();
    await new Promise((r) => setTimeout(r, 2));
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const rows0 = entry.series.steps.length;
  await exited;
  const total = Math.round(rate * seconds);
  while (entry.series.steps.length < total || forwardedRows < total) {
    check();
    await registry.poll();
    await feed.flush();
    await new Promise((r) => setTimeout(r, 5));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  registry.dispose();
  feed.dispose();
  return {
    label, rate, events: total, seconds: wall,
    ingestedPerS: (entry.series.steps.length - rows0) / wall,
    forwardedPerS: forwardedRows / wall,
    cpuPercent: (100 * (cpu.user + cpu.system)) / 1e6 / wall,
    messages, mbPerS: bytes / 1e6 / wall,
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  results.push(await phase('live RPC + events.jsonl (trainer started here)', 10_000, 6, true));
  results.push(await phase('events.jsonl only (trainer started elsewhere)', 10_000, 6, false));
  results.push(await phase('live RPC + events.jsonl, 4x the target rate', 40_000, 4, true));

  console.log('\nhost ingestion and forwarding to one Live Training panel (CPU = this process, % of one core)');
  console.log('path'.padEnd(52), 'target/s'.padStart(9), 'ingested/s'.padStart(11), 'forwarded/s'.padStart(12), 'CPU %'.padStart(7), 'msgs/s'.padStart(7), 'MB/s'.padStart(6));
  for (const r of results) {
    console.log(r.label.padEnd(52), String(r.rate).padStart(9), r.ingestedPerS.toFixed(0).padStart(11), r.forwardedPerS.toFixed(0).padStart(12),
      r.cpuPercent.toFixed(1).padStart(7), (r.messages / r.seconds).toFixed(1).padStart(7), r.mbPerS.toFixed(2).padStart(6));
  }
  const main = results[0]!;
  console.log(`\ntarget: 10,000 events/s for < 10 % of a core -> ${main.forwardedPerS.toFixed(0)} events/s forwarded for ${main.cpuPercent.toFixed(1)} % ` +
    `(${main.cpuPercent < 10 && main.forwardedPerS >= 9500 ? 'met' : 'NOT met'}; ratio to budget ${(main.cpuPercent / 10).toFixed(2)})`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
