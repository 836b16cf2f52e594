// The building blocks of every message parser between the extension host and its webviews
// (webviewMessages.ts, fixedPointMessages.ts, refinementMessages.ts): a parser returns
// Parsed<T> and never throws on bad input; inside it, `need` and `onlyKeys` reject with a reason.
import type * as z from 'zod';

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

export type Obj = Record<string, unknown>;

/** Longest free text a message may carry. */
export const MAX_TEXT = 16384;

/** Free text cut to MAX_TEXT for a message, keeping its end (where a trainer's error is). */
export function cappedText(text: string): string {
  return text.length <= MAX_TEXT ? text : `…${text.slice(text.length - MAX_TEXT + 1)}`;
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isText = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
export const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Thrown by `need` and caught by `parseWith`: a message that is not one of the defined ones. */
export class Reject extends Error {}

export function need(cond: boolean, why: string): asserts cond {
  if (!cond) throw new Reject(why);
}

export function onlyKeys(o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) need(allowed.includes(k), `unexpected field "${k}"`);
}

/** Runs `body` on an object with a string `type`; a Reject becomes { ok: false, error }. */
export function parseWith<T>(m: unknown, body: (o: Obj, type: string) => T): Parsed<T> {
  try {
    need(isObj(m), 'not an object');
    need(typeof m['type'] === 'string', 'no "type"');
    return { ok: true, message: body(m, m['type']) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: e.message };
    throw e;
  }
}

/** A report checked against its zod schema; a bad one is refused with the path of its first bad field ("report.table[2].label: ..."). */
export function checkedReport<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Reject(`report${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}: ${issue.message}`);
  }
  return r.data;
}
