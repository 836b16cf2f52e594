// The curriculum stage as bands: consecutive step rows with the same recursion depth (T, n)
// = (hCycles, lCycles) form one band; a change of (T, n) between steps starts a new one. Works
// for a fixed-depth run (one band) and a depth curriculum alike. Pure: no DOM.

export interface StageBand {
  /** First and last step row of the band (inclusive). */
  startRow: number;
  endRow: number;
  hCycles: number;
  lCycles: number;
}

/** Extends `bands` (computed for rows [0, from)) with rows [from, length). Returns `bands`. */
export function extendStageBands(bands: StageBand[], h: ArrayLike<number>, l: ArrayLike<number>, from: number, length: number): StageBand[] {
  let last = bands[bands.length - 1];
  for (let i = from; i < length; i++) {
    const T = h[i]!;
    const n = l[i]!;
    if (!Number.isFinite(T) || !Number.isFinite(n)) {
      if (last) last.endRow = i;
      continue;
    }
    if (last && last.hCycles === T && last.lCycles === n) last.endRow = i;
    else {
      last = { startRow: i, endRow: i, hCycles: T, lCycles: n };
      bands.push(last);
    }
  }
  return bands;
}

export function stageBands(h: ArrayLike<number>, l: ArrayLike<number>, length = h.length): StageBand[] {
  return extendStageBands([], h, l, 0, length);
}

export const stageLabel = (b: StageBand): string => `(T=${b.hCycles}, n=${b.lCycles})`;
