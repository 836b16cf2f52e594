import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constraintViolations, isCompleteValidGrid, keepsGivens, sudokuGeometry } from '../../trainer/data/sudokuRules';

const grid = (rows: string) => Uint8Array.from(rows.replace(/\s/g, ''), (ch) => (ch === '.' ? 0 : Number(ch)));

const VALID_4 = grid('1234 3412 2143 4321');

test('a hand-checked complete 4x4 grid is valid and has no conflicts', () => {
  assert.equal(constraintViolations(VALID_4, 4), 0);
  assert.equal(isCompleteValidGrid(VALID_4, 4), true);
});

test('constraintViolations counts max(0, count - 1) per unit and digit, ignoring blanks', () => {
  assert.equal(constraintViolations(new Uint8Array(16), 4), 0);
  // Two 1s in row 0, in different boxes and columns: one conflict (the row).
  assert.equal(constraintViolations(grid('1.1. .... .... ....'), 4), 1);
  // Two 1s in row 0 and inside box 0: row + box.
  assert.equal(constraintViolations(grid('11.. .... .... ....'), 4), 2);
  // Three 1s in row 0: row counts 2; cells 0 and 1 share box 0 (+1); cells 2 and 3 are in box 1 alone.
  assert.equal(constraintViolations(grid('111. .... .... ....'), 4), 3);
  // Swapping two cells of a valid grid within a row breaks two columns (and the boxes they cross).
  const swapped = grid('2134 3412 2143 4321');
  // col 0 has 2,3,2,4 (+1); col 1 has 1,4,1,3 (+1); box 0 has 2,1,3,4 (ok).
  assert.equal(constraintViolations(swapped, 4), 2);
  assert.equal(isCompleteValidGrid(swapped, 4), false);
});

test('isCompleteValidGrid rejects blanks, out-of-range digits and wrong sizes', () => {
  const withBlank = new Uint8Array(VALID_4);
  withBlank[5] = 0;
  assert.equal(isCompleteValidGrid(withBlank, 4), false);
  const outOfRange = new Uint8Array(VALID_4);
  outOfRange[0] = 5;
  assert.equal(isCompleteValidGrid(outOfRange, 4), false);
  assert.equal(isCompleteValidGrid(new Uint8Array(15), 4), false);
});

test('a published 9x9 solution (Wikipedia example) is valid', () => {
  const solution = grid('534678912672195348198342567859761423426853791713924856961537284287419635345286179');
  assert.equal(isCompleteValidGrid(solution, 9), true);
});

test('keepsGivens compares only the given cells', () => {
  assert.equal(keepsGivens(grid('1... .... .... ...1'), VALID_4), true);
  assert.equal(keepsGivens(grid('2... .... .... ....'), VALID_4), false);
  assert.equal(keepsGivens(new Uint8Array(16), VALID_4), true);
  assert.equal(keepsGivens(new Uint8Array(15), VALID_4), false);
});

test('geometry: 4x4 has 2x2 boxes and 12 units; 9x9 has 3x3 boxes and 27 units', () => {
  const g4 = sudokuGeometry(4);
  assert.equal(g4.units.length, 12);
  assert.equal(g4.boxOf[0 * 4 + 3], 1);
  assert.equal(g4.boxOf[2 * 4 + 1], 2);
  const g9 = sudokuGeometry(9);
  assert.equal(g9.units.length, 27);
  assert.equal(g9.boxOf[4 * 9 + 4], 4);
  assert.equal(g9.boxOf[8 * 9 + 0], 6);
  for (const unit of g9.units) assert.equal(new Set(unit).size, 9);
});
