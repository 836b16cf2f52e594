// Reading and writing a run's annotations.json (protocol/runAnnotations.ts). The write goes to a
// temporary name and is renamed, so a reader never sees half a file. No vscode import.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { annotationsFile, emptyAnnotations, parseRunAnnotations, type RunAnnotations } from '../../protocol/runAnnotations';

/** The run's annotations; none when the file is absent. A malformed file is an error naming it. */
export async function readRunAnnotations(runDir: string): Promise<RunAnnotations> {
  const path = join(runDir, annotationsFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyAnnotations();
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  try {
    return parseRunAnnotations(text);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

export async function writeRunAnnotations(runDir: string, a: RunAnnotations): Promise<void> {
  const text = JSON.stringify(a, null, 2) + '\n';
  parseRunAnnotations(text); // never write what we would refuse to read
  const path = join(runDir, annotationsFile);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

/** "a, b  c" -> ["a", "b", "c"], duplicates dropped, order kept. */
export function splitTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}
