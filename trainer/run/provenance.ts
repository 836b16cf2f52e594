// What config.json records about where a run came from: package versions and the git commit.
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { backendPackageVersions } from '../backend';

declare const RECLAB_VERSION: string | undefined;

export function packageVersions(backendNotes: string[]): Record<string, string> {
  const versions: Record<string, string> = {
    'recursion-lab': typeof RECLAB_VERSION === 'string' ? RECLAB_VERSION : 'dev',
    node: process.versions.node,
    '@tensorflow/tfjs-core': tf.version_core,
    ...backendPackageVersions,
  };
  if (backendNotes.length > 0) versions['backendFallbacks'] = backendNotes.join('; ');
  return versions;
}

/** HEAD of the git repository around `dir`, if there is one (with "-dirty" for local changes). */
export function gitCommit(dir: string): string | undefined {
  try {
    const opts = { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], timeout: 5000 };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).toString().trim().length > 0;
    return dirty ? `${head}-dirty` : head;
  } catch {
    return undefined;
  }
}
