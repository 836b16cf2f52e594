// Which runs each Live Training panel shows, kept by the host in a small file of the extension's
// storage. The webview's own saved state can be older than the panel's last change (in VS Code
// for the web it reaches storage on the workbench's next flush, which a reload may precede), so
// the serializer prefers this file, keyed by the panel id the webview state carries.
// No vscode import.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const KEEP_PANELS = 50;

interface MemoryFile {
  panels: Record<string, { keys: string[]; updated: number }>;
}

export class PanelMemory {
  private data: MemoryFile = { panels: {} };

  constructor(private readonly file: string | undefined) {
    if (!file) return;
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as MemoryFile;
      if (raw && typeof raw.panels === 'object') this.data = raw;
    } catch {
      // none yet, or unreadable: start empty
    }
  }

  get(panelId: string): string[] | undefined {
    const p = this.data.panels[panelId];
    return p && Array.isArray(p.keys) ? p.keys.filter((k) => typeof k === 'string') : undefined;
  }

  set(panelId: string, keys: string[]): void {
    this.data.panels[panelId] = { keys: [...keys], updated: Date.now() };
    const ids = Object.keys(this.data.panels).sort((a, b) => this.data.panels[b]!.updated - this.data.panels[a]!.updated);
    for (const id of ids.slice(KEEP_PANELS)) delete this.data.panels[id];
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file + '.tmp', JSON.stringify(this.data));
      renameSync(this.file + '.tmp', this.file);
    } catch {
      // a read-only storage folder only costs the restore of the panel's runs
    }
  }
}
