import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTokens, encodeAnswer, encodeQuestion, vocabSize } from '../../trainer/data/tokenEncoding';

const grid = (rows: string) => Uint8Array.from(rows.replace(/\s/g, ''), (ch) => (ch === '.' ? 0 : Number(ch)));

test('vocabulary: PAD, blank and one token per digit', () => {
  assert.equal(vocabSize(4), 6);
  assert.equal(vocabSize(9), 11);
});

test('a hand-written 4x4 example encodes as blank 1, digit d -> d + 1', () => {
  const question = grid('1.3. .4.2 2..3 ...1');
  const answer = grid('1234 3412 2143 4321');
  assert.deepEqual([...encodeQuestion(question)], [2, 1, 4, 1, 1, 5, 1, 3, 3, 1, 1, 4, 1, 1, 1, 2]);
  assert.deepEqual([...encodeAnswer(answer)], [2, 3, 4, 5, 4, 5, 2, 3, 3, 2, 5, 4, 5, 4, 3, 2]);
});

test('9x9 digits map to tokens 2..10 (reference build_sudoku_dataset.py)', () => {
  const q = encodeQuestion(grid('123456789' + '.'.repeat(72)));
  assert.deepEqual([...q.slice(0, 10)], [2, 3, 4, 5, 6, 7, 8, 9, 10, 1]);
});

test('decodeTokens maps digit tokens back and anything else to blank', () => {
  assert.deepEqual(decodeTokens([2, 1, 4, 0, 5, 6, 3, 99, -1, 2, 3, 4, 5, 2, 3, 4]),
    grid('1.3. 4.2. .1234 123'));
  const answer = grid('1234 3412 2143 4321');
  assert.deepEqual(decodeTokens(encodeAnswer(answer)), answer);
});

test('encodeAnswer rejects blanks; wrong lengths are rejected', () => {
  assert.throws(() => encodeAnswer(grid('.234 3412 2143 4321')), RangeError);
  assert.throws(() => encodeQuestion(new Uint8Array(15)), RangeError);
  assert.throws(() => decodeTokens(new Int32Array(20)), RangeError);
});
