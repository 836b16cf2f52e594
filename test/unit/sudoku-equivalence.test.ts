import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../trainer/random';
import { equivalenceKey } from '../../trainer/data/puzzleEquivalence';
import { applyTransform, augmentPuzzle, cyclicDigitShift, type SudokuTransform } from '../../trainer/data/sudokuAugment';
import { generatePuzzle } from '../../trainer/data/sudokuGenerator';
import type { Puzzle } from '../../trainer/data/puzzle';

const grid = (rows: string) => Uint8Array.from(rows.replace(/\s/g, ''), (ch) => (ch === '.' ? 0 : Number(ch)));
const puzzle = (question: string, answer: string): Puzzle => {
  const q = grid(question);
  return { question: q, answer: grid(answer), blanks: q.filter((c) => c === 0).length };
};

function permutations(items: number[]): number[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

/** Every question reachable from `question` by the 4x4 augmentation group, by brute force. */
function orbit4(question: Uint8Array): Set<string> {
  const bandPerms = permutations([0, 1]).flatMap((bands) => permutations([0, 1]).flatMap((first) =>
    permutations([0, 1]).map((second) => [...first.map((r) => bands[0]! * 2 + r), ...second.map((r) => bands[1]! * 2 + r)])));
  const out = new Set<string>();
  for (const digits of permutations([1, 2, 3, 4])) {
    for (const transpose of [false, true]) {
      for (const rowPerm of bandPerms) {
        for (const colPerm of bandPerms) {
          const t: SudokuTransform = {
            digitMap: Uint8Array.from([0, ...digits]), transpose,
            rowPerm: Uint8Array.from(rowPerm), colPerm: Uint8Array.from(colPerm),
          };
          out.add(applyTransform(question, t, 4).join(''));
        }
      }
    }
  }
  return out;
}

test('a 4x4 puzzle and 300 random augmentations and its cyclic shifts share one key', () => {
  const rng = new Rng(11);
  for (const blanks of [4, 8, 12]) {
    const p = generatePuzzle(4, blanks, rng);
    const key = equivalenceKey(p, 4);
    for (let i = 0; i < 100; i++) assert.equal(equivalenceKey(augmentPuzzle(p, rng, 4), 4), key);
    for (let s = 1; s < 4; s++) {
      const shifted = { question: cyclicDigitShift(p.question, s, 4), answer: cyclicDigitShift(p.answer, s, 4), blanks };
      assert.equal(equivalenceKey(shifted, 4), key);
    }
  }
});

test('a 9x9 puzzle and 100 random augmentations and its cyclic shifts share one key', () => {
  const rng = new Rng(12);
  for (const blanks of [5, 40]) {
    const p = generatePuzzle(9, blanks, rng);
    const key = equivalenceKey(p, 9);
    for (let i = 0; i < 50; i++) assert.equal(equivalenceKey(augmentPuzzle(p, rng, 9), 9), key);
    for (let s = 1; s < 9; s++) {
      const shifted = { question: cyclicDigitShift(p.question, s, 9), answer: cyclicDigitShift(p.answer, s, 9), blanks };
      assert.equal(equivalenceKey(shifted, 9), key);
    }
  }
});

const SOLVED_4 = '1234 3412 2143 4321';

test('two constructed non-equivalent 4x4 puzzles get different keys', () => {
  // Same solution, 4 blanks each. A blanks all of row 0; B blanks the diagonal, one per row and
  // column. Transforms carry rows to rows or columns, so no transform turns A's empty row into B.
  const a = puzzle('.... 3412 2143 4321', SOLVED_4);
  const b = puzzle('.234 3.12 21.3 432.', SOLVED_4);
  assert.notEqual(equivalenceKey(a, 4), equivalenceKey(b, 4));
  assert.equal(orbit4(a.question).has(b.question.join('')), false);
});

test('4x4 keys are exact: equal keys <=> one question is in the brute-force orbit of the other', () => {
  const rng = new Rng(13);
  for (const blanks of [6, 10, 12]) {
    const puzzles = Array.from({ length: 16 }, () => generatePuzzle(4, blanks, rng));
    const keys = puzzles.map((p) => equivalenceKey(p, 4));
    const orbits = puzzles.map((p) => orbit4(p.question));
    let equalPairs = 0, differentPairs = 0;
    for (let i = 0; i < puzzles.length; i++) {
      for (let j = i + 1; j < puzzles.length; j++) {
        const equivalent = orbits[i]!.has(puzzles[j]!.question.join(''));
        assert.equal(keys[i] === keys[j], equivalent, `pair ${i},${j} at ${blanks} blanks`);
        if (equivalent) equalPairs++; else differentPairs++;
      }
    }
    assert.ok(differentPairs > 0);
    if (blanks === 12) assert.ok(equalPairs > 0, 'few classes at 12 blanks, so some pairs must match');
  }
});

const WIKI_SOLUTION = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';

test('two constructed non-equivalent 9x9 puzzles get different keys', () => {
  // A blanks row 0; B blanks the main diagonal. A has a row with no givens, B has none such,
  // and row/column given counts are preserved (rows and columns swapped by transpose).
  const a = puzzle('.'.repeat(9) + WIKI_SOLUTION.slice(9), WIKI_SOLUTION);
  const b = puzzle([...WIKI_SOLUTION].map((ch, i) => (Math.floor(i / 9) === i % 9 ? '.' : ch)).join(''), WIKI_SOLUTION);
  assert.equal(a.blanks, 9);
  assert.equal(b.blanks, 9);
  assert.notEqual(equivalenceKey(a, 9), equivalenceKey(b, 9));
});

test('the 9x9 key is not degenerate: it looks at the solution, not only the blank pattern', () => {
  // Ten random solutions under one blank pattern: positional statistics agree, so only the
  // solution part of the key can tell them apart; it must not give all of them one key.
  const rng = new Rng(14);
  const pattern = Array.from({ length: 81 }, (_, i) => i % 7 === 0);
  const keys = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const p = generatePuzzle(9, 0, rng);
    const question = p.answer.map((d, cell) => (pattern[cell] ? 0 : d));
    keys.add(equivalenceKey({ question, answer: p.answer, blanks: 12 }, 9));
  }
  assert.ok(keys.size > 1);
});
