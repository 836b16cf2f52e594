// The built CLI (dist/trainer/cli.js, from `npm run build`) run as a child process in a scratch
// folder that is removed after the test file: what the CLI tests share.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const cli = resolve(__dirname, '../../dist/trainer/cli.js');

export function builtCli(prefix: string, timeoutMs = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    /** Runs `reclab ...args` in the scratch folder. */
    reclab(...args: string[]) {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: timeoutMs });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    /** Writes a file in the scratch folder (an object as JSON); returns its path. */
    write(name: string, content: unknown): string {
      const path = join(dir, name);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    },
  };
}
