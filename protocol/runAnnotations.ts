// A run's tags and note (`annotations.json` in the run directory): written by the extension's
// Tag Run / Edit Note commands, shown in the runs tree and the runs table. The trainer never
// writes it, so it survives resume; a missing file means no tags and no note.
import { isObj } from './messageGuards';

export const annotationsFile = 'annotations.json';

export interface RunAnnotations {
  v: 1;
  /** Short labels, unique, in the order the user gave them. */
  tags: string[];
  /** Free text, may be empty. */
  note: string;
}

export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 64;
export const MAX_NOTE_LENGTH = 8192;

export const emptyAnnotations = (): RunAnnotations => ({ v: 1, tags: [], note: '' });

/** Why a tag is refused, or undefined when it is fine. */
export function checkTag(tag: string): string | undefined {
  if (tag.length === 0) return 'a tag cannot be empty';
  if (tag.length > MAX_TAG_LENGTH) return `a tag has at most ${MAX_TAG_LENGTH} characters`;
  if (/[\s,]/.test(tag)) return 'a tag has no spaces or commas';
  return undefined;
}

/** Parses annotations.json's text; throws an Error naming the field at fault. */
export function parseRunAnnotations(text: string): RunAnnotations {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) throw new Error('not a JSON object');
  for (const k of Object.keys(raw)) if (!['v', 'tags', 'note'].includes(k)) throw new Error(`unexpected field "${k}"`);
  if (raw['v'] !== 1) throw new Error('v: expected 1');
  const tags = raw['tags'];
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) throw new Error(`tags: expected an array of at most ${MAX_TAGS} strings`);
  tags.forEach((t, i) => {
    const why = typeof t === 'string' ? checkTag(t) : 'not a string';
    if (why) throw new Error(`tags[${i}]: ${why}`);
  });
  if (new Set(tags).size !== tags.length) throw new Error('tags: a tag appears twice');
  const note = raw['note'];
  if (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH) throw new Error(`note: expected a string of at most ${MAX_NOTE_LENGTH} characters`);
  return { v: 1, tags: tags as string[], note };
}
