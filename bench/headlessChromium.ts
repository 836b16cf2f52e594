// Headless Debian Chromium for the panel benchmarks, through the playwright-core that
// test/e2e/setup.sh installs into its cache (outside the repository; run here when needed), with
// the flags this closed network needs. Only the little of playwright the benches use is typed.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
}
export interface Browser {
  newPage(o: { viewport: { width: number; height: number }; deviceScaleFactor: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const cache = execFileSync('bash', ['test/e2e/setup.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const { chromium } = createRequire(join(cache, 'harness', 'package.json'))('playwright-core') as { chromium: { launch(o: object): Promise<Browser> } };
  return chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
