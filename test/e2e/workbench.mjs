/* global setTimeout */
// Page objects for the VS Code (code-server 1.100) workbench: the selectors live here, not in the
// tests. Recipe and pitfalls: ../shared/e2e/README.md.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';

/**
 * Headless Debian Chromium with the flags this closed network needs (../shared/e2e/README.md), and
 * one page whose script errors are logged. `chromium` is playwright-core's launcher.
 */
export async function launchPage(chromium, viewport = { width: 1440, height: 900 }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on('pageerror', (e) => console.log('# [pageerror]', e.message));
  return { browser, page };
}

export class Workbench {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.quickInput = page.locator('.quick-input-widget .quick-input-box input');
  }

  /** Opens the workbench on `folder` and waits until the explorer shows it. */
  async open(url, folder) {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  }

  /**
   * Runs a palette command. The remote extension host registers contributed commands a little
   * after the workbench shows, and an open palette does not refresh: retry open + filter.
   */
  async runCommand(title, timeoutMs = 60_000) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.quickInput.isVisible())) await this.page.keyboard.press('F1');
      try {
        await this.quickInput.waitFor({ state: 'visible', timeout: 5_000 });
        await this.quickInput.fill('>' + title);
        await row.waitFor({ state: 'visible', timeout: 1_500 });
        await this.page.keyboard.press('Enter');
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await this.page.keyboard.press('Escape');
        await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
      }
    }
  }

  /** Picks the row of the open quick pick whose label is `label`. */
  async pick(label) {
    // Filter first: in a long list (every preset, then the config files) the row may sit below
    // the list's viewport, and a virtualised row out of view is never "visible".
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await this.quickInput.waitFor({ state: 'visible', timeout: 15_000 });
    await this.quickInput.fill(label);
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.keyboard.press('Enter');
  }

  /** Answers the open input box. */
  async answer(value) {
    await this.quickInput.waitFor({ state: 'visible', timeout: 15_000 });
    await this.quickInput.fill(value);
    await this.page.keyboard.press('Enter');
  }

  /** The status bar entry whose text matches `re`. */
  statusBarItem(re) {
    return this.page.locator('.part.statusbar .statusbar-item', { hasText: re }).first();
  }

  /** The content frame of the webview of extension `extensionId` (two nested iframes). */
  webview(extensionId) {
    return this.page
      .frameLocator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`)
      .frameLocator('iframe#active-frame');
  }

  /**
   * The content frame of the extension's webview that is on screen, when several are open in tabs
   * (the hidden ones keep their iframes, out of view).
   */
  visibleWebview(extensionId) {
    return this.page
      .frameLocator(`iframe.webview.ready[src*="extensionId=${extensionId}"] >> visible=true`)
      .frameLocator('iframe#active-frame');
  }

  /** A row of the tree view `viewTitle` (a pane of the side bar) that contains `text`. */
  treeRow(viewTitle, text) {
    return this.page
      .locator('.pane', { has: this.page.locator('.pane-header', { hasText: viewTitle }) })
      .locator('.monaco-list-row', { hasText: text })
      .first();
  }
}

/** Polls `fn` every 250 ms until it returns something truthy (returned), or throws after `timeoutMs`. */
export async function poll(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}


/**
 * One e2e suite's browser: Chromium launched before the suite's tests (then `onReady({ page, wb })`)
 * and closed after them. `withShot(body)` runs a test body and, when it fails, keeps a picture of
 * the window in $FAILURE_SHOT, suffixed with the suite's name and a count.
 */
export function suiteBrowser(chromium, name, onReady, viewport) {
  let browser;
  let page;
  let failures = 0;
  before(async () => {
    ({ browser, page } = await launchPage(chromium, viewport));
    await onReady({ page, wb: new Workbench(page) });
  });
  after(async () => {
    await browser?.close();
  });
  return {
    withShot: (body) => async (t) => {
      try {
        await body(t);
      } catch (e) {
        failures++;
        await page?.screenshot({ path: process.env.FAILURE_SHOT.replace(/\.png$/, `-${name}-${failures}.png`) }).catch(() => {});
        throw e;
      }
    },
  };
}

/**
 * `reclab train` from a terminal (the run appears in the window by itself): `config` is written as
 * `<name>.reclab.json` beside the workspace (in the e2e work dir), the run goes to `<runs>/<name>`.
 * Resolves when the trainer exits 0, rejects with the end of its stderr otherwise.
 */
export function trainFromTerminal({ cli, workspace, runs }, name, config) {
  const dir = join(workspace, '..', 'configs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.reclab.json`);
  writeFileSync(file, JSON.stringify({ name, checkpointEverySteps: 0, ...config }));
  const child = spawn(process.execPath, [cli, 'train', '--config', file, '--run-dir', join(runs, name), '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reclab train ${name} exited with ${code}: ${stderr.slice(-800)}`)))));
}

/** The refinement events of the run in `runDir`, read from its events.jsonl here (independently of the extension). */
export function refinementSnapshots(runDir) {
  const file = join(runDir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"type":"refinement"')).flatMap((l) => {
    try { return [JSON.parse(l)]; } catch { return []; } // a line being written
  });
}
