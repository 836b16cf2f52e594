import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../trainer/random';
import {
  applyTransform, augmentPuzzle, cyclicDigitShift, identityTransform, randomTransform, type SudokuTransform,
} from '../../trainer/data/sudokuAugment';
import { generatePuzzle } from '../../trainer/data/sudokuGenerator';
import { countSolutions } from '../../trainer/data/sudokuSolver';
import { isCompleteValidGrid, keepsGivens, type SudokuSide } from '../../trainer/data/sudokuRules';
import { countBlanks } from '../../trainer/data/puzzle';

const grid = (rows: string) => Uint8Array.from(rows.replace(/\s/g, ''), (ch) => (ch === '.' ? 0 : Number(ch)));

test('a transform worked out by hand on a 4x4 grid', () => {
  // Transpose of 1234/3412/2143/4321 is 1324/2413/3142/4231; rows in order 2,3,0,1 give
  // 3142/4231/1324/2413; columns 1,0,2,3 give 1342/2431/3124/4213; digits 1->2 2->3 3->4 4->1
  // give 2413/3142/4231/1324.
  const t: SudokuTransform = {
    digitMap: Uint8Array.from([0, 2, 3, 4, 1]),
    transpose: true,
    rowPerm: Uint8Array.from([2, 3, 0, 1]),
    colPerm: Uint8Array.from([1, 0, 2, 3]),
  };
  assert.deepEqual(applyTransform(grid('1234 3412 2143 4321'), t, 4), grid('2413 3142 4231 1324'));
  // Blanks at old (0,0) and (2,1) move to new (2,1) and (3,2) and stay blank.
  assert.deepEqual(applyTransform(grid('.234 3412 2.43 4321'), t, 4), grid('2413 3142 4.31 13.4'));
});

test('the identity transform changes nothing', () => {
  const g = grid('1.34 3412 2.43 4321');
  assert.deepEqual(applyTransform(g, identityTransform(4), 4), g);
});

test('random transforms respect bands and stacks and permute the digits', () => {
  const rng = new Rng(5);
  let transposed = 0;
  for (let i = 0; i < 200; i++) {
    const t = randomTransform(9, rng);
    if (t.transpose) transposed++;
    assert.equal(t.digitMap[0], 0);
    assert.deepEqual([...t.digitMap.slice(1)].sort(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const perm of [t.rowPerm, t.colPerm]) {
      assert.deepEqual([...perm].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      for (let band = 0; band < 3; band++) {
        const rows = perm.slice(band * 3, band * 3 + 3);
        assert.equal(new Set([...rows].map((r) => Math.floor(r / 3))).size, 1, 'a band stays together');
      }
    }
  }
  assert.ok(transposed > 60 && transposed < 140, `transposed ${transposed} of 200`);
});

function checkAugmentations(side: SudokuSide, blanks: number, seed: number, copies: number): void {
  const rng = new Rng(seed);
  const p = generatePuzzle(side, blanks, rng);
  for (let i = 0; i < copies; i++) {
    const q = augmentPuzzle(p, rng, side);
    assert.equal(isCompleteValidGrid(q.answer, side), true);
    assert.equal(keepsGivens(q.question, q.answer), true);
    assert.equal(countBlanks(q.question), blanks);
    assert.equal(q.blanks, blanks);
    assert.equal(countSolutions(q.question, side), 1);
  }
}

test('augmented 4x4 and 9x9 puzzles stay valid, consistent and unique', () => {
  checkAugmentations(4, 10, 1, 200);
  checkAugmentations(9, 45, 2, 50);
});

test('cyclic digit shift: d -> ((d - 1 + p) mod side) + 1, blanks unchanged', () => {
  assert.deepEqual(cyclicDigitShift(grid('1234 .... 4321 ....'), 1, 4), grid('2341 .... 1432 ....'));
  assert.deepEqual(cyclicDigitShift(grid('1234 .... 4321 ....'), 3, 4), grid('4123 .... 3214 ....'));
  assert.deepEqual(cyclicDigitShift(grid('1234 .... 4321 ....'), 0, 4), grid('1234 .... 4321 ....'));
  const nine = grid('123456789' + '.'.repeat(72));
  assert.deepEqual([...cyclicDigitShift(nine, 8, 9).slice(0, 10)], [9, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
  const solved = grid('534678912672195348198342567859761423426853791713924856961537284287419635345286179');
  for (let p = 0; p < 9; p++) assert.equal(isCompleteValidGrid(cyclicDigitShift(solved, p, 9), 9), true);
});
