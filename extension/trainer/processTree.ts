// Killing a process and everything it started. The trainer is spawned in its own process group
// (POSIX), so the group goes in one call; descendants that left the group are found through
// their parent ids first (a killed parent's children are re-parented and could not be found after).
import { execFile } from 'node:child_process';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000, windowsHide: true }, (_err, stdout) => resolve(String(stdout ?? '')));
  });
}

/** Pids of every descendant of `root` (not `root` itself), from `ps`. */
export async function descendantPids(root: number): Promise<number[]> {
  const out = await run('ps', ['-A', '-o', 'pid=', '-o', 'ppid=']);
  const children = new Map<number, number[]>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const ppid = Number(m[2]);
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const found: number[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      found.push(c);
      stack.push(c);
    }
  }
  return found;
}

/** A process with this pid exists here (EPERM: it does, under another user). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGKILLs the process `pid`, its process group (when it leads one) and all its descendants. */
export async function killProcessTree(pid: number, groupLeader: boolean): Promise<void> {
  if (process.platform === 'win32') {
    await run('taskkill', ['/pid', String(pid), '/T', '/F']);
    return;
  }
  const descendants = await descendantPids(pid);
  if (groupLeader) signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  for (const d of descendants) signal(d, 'SIGKILL');
}
