// Keys that are equal for puzzles related by the augmentation of sudokuAugment.ts (digit
// relabelling, transpose, band/row/stack/column permutations), used to keep train and test apart.
//
// 4x4: the key is an exact canonical form, so equal keys <=> equivalent puzzles.
// 9x9: the exact form would need 3,359,232 position transforms per puzzle, so the key is a sound
// invariant instead: equivalent puzzles always share it, and different keys prove non-equivalence,
// but two non-equivalent puzzles may also share it. It is only used to *exclude* training
// candidates that might be equivalent to a test puzzle, where a false match merely drops a
// harmless candidate.
import type { Puzzle } from './puzzle';
import { assertSudokuSide, boxSize, type SudokuSide } from './sudokuRules';

export function equivalenceKey(p: Puzzle, side: SudokuSide): string {
  assertSudokuSide(side);
  if (p.question.length !== side * side) throw new RangeError(`expected ${side * side} cells, got ${p.question.length}`);
  return side === 4 ? canonicalQuestion4(p.question) : invariantKey9(p);
}

// ---------------------------------------------------------------- 4x4: exact canonical form

/** Band-respecting permutations of 0..3: 2 band orders x 2 x 2 row orders = 8. */
function bandPermutations4(): number[][] {
  const perms: number[][] = [];
  for (const bands of [[0, 1], [1, 0]]) {
    for (const first of [[0, 1], [1, 0]]) {
      for (const second of [[0, 1], [1, 0]]) {
        const [b0, b1] = bands as [number, number];
        perms.push([...first.map((r) => b0 * 2 + r), ...second.map((r) => b1 * 2 + r)]);
      }
    }
  }
  return perms;
}

/** For each of the 128 position transforms, the source cell of every target cell. */
const POSITION_TRANSFORMS_4: readonly Uint8Array[] = (() => {
  const maps: Uint8Array[] = [];
  const perms = bandPermutations4();
  for (const transpose of [false, true]) {
    for (const rowPerm of perms) {
      for (const colPerm of perms) {
        const map = new Uint8Array(16);
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) {
            const r = rowPerm[i]!, c = colPerm[j]!;
            map[i * 4 + j] = transpose ? c * 4 + r : r * 4 + c;
          }
        }
        maps.push(map);
      }
    }
  }
  return maps;
})();

/**
 * The lexicographically smallest grid over all position transforms, each relabelled by first
 * appearance (first digit met becomes 1, the next new one 2, ...; blanks stay 0). For a fixed
 * arrangement that relabelling is the smallest over all digit permutations, so the minimum is the
 * smallest member of the whole equivalence class.
 */
function canonicalQuestion4(question: Uint8Array): string {
  let best: Uint8Array | null = null;
  const candidate = new Uint8Array(16);
  const relabel = new Uint8Array(5);
  for (const map of POSITION_TRANSFORMS_4) {
    relabel.fill(0);
    let nextLabel = 1;
    let smaller = best === null;
    let larger = false;
    for (let k = 0; k < 16; k++) {
      const digit = question[map[k]!]!;
      let label = 0;
      if (digit !== 0) {
        if (relabel[digit] === 0) relabel[digit] = nextLabel++;
        label = relabel[digit]!;
      }
      candidate[k] = label;
      if (!smaller && best !== null) {
        if (label < best[k]!) smaller = true;
        else if (label > best[k]!) { larger = true; break; }
      }
    }
    if (!larger && smaller) best = new Uint8Array(candidate);
  }
  return `4:${best!.join('')}`;
}

// ---------------------------------------------------------------- 9x9: sound invariant

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Unordered pair: transpose swaps the row-side and column-side statistics. */
function symmetricPair(rowSide: string, colSide: string): string {
  return rowSide <= colSide ? `${rowSide}/${colSide}` : `${colSide}/${rowSide}`;
}

const STACK_ORDERS_3 = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;

/**
 * counts[line][box] = givens in the segment of `line` (row or column) inside the box it crosses.
 * Canonical under permuting lines within bands, bands, and the boxes along a line: for each box
 * order, sort lines within each band, then the bands; keep the smallest.
 */
function canonicalSegmentCounts(counts: number[][]): string {
  let best: string | null = null;
  for (const order of STACK_ORDERS_3) {
    const bands: string[] = [];
    for (let band = 0; band < 3; band++) {
      const lines: string[] = [];
      for (let k = 0; k < 3; k++) {
        const row = counts[band * 3 + k]!;
        lines.push(order.map((s) => row[s]!).join(''));
      }
      bands.push(lines.sort(compareStrings).join(','));
    }
    const form = bands.sort(compareStrings).join(';');
    if (best === null || form < best) best = form;
  }
  return best!;
}

/**
 * Per band: for each pair of boxes, how many of their mini-row digit sets coincide; sorted within
 * the band, bands sorted. Digit sets survive relabelling, and row/column/stack moves only reorder
 * the sets or boxes.
 */
function sharedMiniLineSets(answer: Uint8Array, byColumns: boolean): string {
  const at = (line: number, pos: number): number => answer[byColumns ? pos * 9 + line : line * 9 + pos]!;
  const bands: string[] = [];
  for (let band = 0; band < 3; band++) {
    // sets[box][k] = bitmask of the digits of line band*3+k inside box
    const sets = [0, 1, 2].map((box) => [0, 1, 2].map((k) => {
      let mask = 0;
      for (let p = 0; p < 3; p++) mask |= 1 << at(band * 3 + k, box * 3 + p);
      return mask;
    }));
    const shared: number[] = [];
    for (const [a, b] of [[0, 1], [0, 2], [1, 2]] as const) {
      shared.push(sets[a]!.filter((m) => sets[b]!.includes(m)).length);
    }
    bands.push(shared.sort().join(''));
  }
  return bands.sort(compareStrings).join(',');
}

function invariantKey9(p: Puzzle): string {
  const { question, answer } = p;
  const box = boxSize(9);
  const rowCount = new Array<number>(9).fill(0);
  const colCount = new Array<number>(9).fill(0);
  const boxCount = new Array<number>(9).fill(0);
  const rowSegments = Array.from({ length: 9 }, () => new Array<number>(3).fill(0));
  const colSegments = Array.from({ length: 9 }, () => new Array<number>(3).fill(0));
  const digitCount = new Array<number>(10).fill(0);
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < 9; c++) {
      const digit = question[r * 9 + c]!;
      if (digit === 0) continue;
      rowCount[r]!++;
      colCount[c]!++;
      boxCount[Math.floor(r / box) * box + Math.floor(c / box)]!++;
      rowSegments[r]![Math.floor(c / box)]!++;
      colSegments[c]![Math.floor(r / box)]!++;
      digitCount[digit]!++;
    }
  }
  // For every given: the (unordered) counts of its row and column, and its box's count.
  const givenProfiles: string[] = [];
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < 9; c++) {
      if (question[r * 9 + c] === 0) continue;
      const a = rowCount[r]!, b = colCount[c]!;
      givenProfiles.push(`${Math.min(a, b)}${Math.max(a, b)}${boxCount[Math.floor(r / box) * box + Math.floor(c / box)]!}`);
    }
  }
  const digitFrequencies = digitCount.slice(1).sort((x, y) => x - y).join('');
  return [
    '9',
    symmetricPair(canonicalSegmentCounts(rowSegments), canonicalSegmentCounts(colSegments)),
    givenProfiles.sort(compareStrings).join(','),
    digitFrequencies,
    symmetricPair(sharedMiniLineSets(answer, false), sharedMiniLineSets(answer, true)),
  ].join('|');
}
