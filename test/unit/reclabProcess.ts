// The built CLI (dist/trainer/cli.js, from `npm run build`) as a real child process: its exit
// code, signal and output, for the tests that check what a user of `reclab` sees.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const cliPath = resolve(__dirname, '../../dist/trainer/cli.js');

export function runReclab(cwd: string, args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: 120_000, input });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
