import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSudokuCsv, parsePuzzleString } from '../../trainer/data/sudokuCsv';
import { isCompleteValidGrid, keepsGivens } from '../../trainer/data/sudokuRules';

// Wikipedia's example puzzle (30 givens, 51 blanks) and its published solution.
const WIKI_PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const WIKI_SOLUTION = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
const HEADER = 'source,question,answer,rating';

/** Relabels digits d -> d % 9 + 1: another valid puzzle/solution pair. */
const relabel = (s: string) => s.replace(/[1-9]/g, (d) => String((Number(d) % 9) + 1));
/** The solution with every cell whose index is a multiple of `k` blanked. */
const blankEvery = (k: number) => [...WIKI_SOLUTION].map((ch, i) => (i % k === 0 ? '.' : ch)).join('');

const ROWS = [
  `wiki,${WIKI_PUZZLE},${WIKI_SOLUTION},0`,
  `wiki_relabelled,${relabel(WIKI_PUZZLE)},${relabel(WIKI_SOLUTION)},3`,
  `few_blanks,${blankEvery(10)},${WIKI_SOLUTION},1`,
  `more_blanks,${blankEvery(3)},${WIKI_SOLUTION},12`,
  `zero_blank,${blankEvery(5).replace(/\./g, '0')},${WIKI_SOLUTION},7`,
];

const dir = mkdtempSync(join(tmpdir(), 'sudoku-csv-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function writeCsv(lines: string[], eol = '\n'): string {
  const path = join(dir, `data${++fileCount}.csv`);
  writeFileSync(path, lines.join(eol) + eol);
  return path;
}

test('reads a valid file: every row, in file order, with blanks counted', () => {
  const { groups } = loadSudokuCsv(writeCsv([HEADER, ...ROWS]), { seed: 1 });
  assert.equal(groups.length, 5);
  assert.deepEqual(groups.map((g) => g.length), [1, 1, 1, 1, 1]);
  const first = groups[0]![0]!;
  assert.deepEqual(first.question, parsePuzzleString(WIKI_PUZZLE, 9));
  assert.deepEqual(first.answer, parsePuzzleString(WIKI_SOLUTION, 9));
  assert.equal(first.blanks, 51);
  assert.deepEqual(groups.map((g) => g[0]!.blanks), [51, 51, 9, 27, 17]);
  assert.equal(groups[4]![0]!.question[0], 0, "'0' is read as a blank");
});

test('CRLF line endings and a missing final newline are accepted', () => {
  const path = writeCsv([HEADER, ...ROWS], '\r\n');
  assert.equal(loadSudokuCsv(path, { seed: 1 }).groups.length, 5);
  const noFinalNewline = join(dir, 'nofinal.csv');
  writeFileSync(noFinalNewline, [HEADER, ...ROWS].join('\n'));
  assert.equal(loadSudokuCsv(noFinalNewline, { seed: 1 }).groups.length, 5);
});

test('each group holds the original then valid augmented copies', () => {
  const { groups } = loadSudokuCsv(writeCsv([HEADER, ...ROWS]), { seed: 2, augmentationsPerPuzzle: 4 });
  for (const group of groups) {
    assert.equal(group.length, 5);
    for (const p of group) {
      assert.equal(isCompleteValidGrid(p.answer, 9), true);
      assert.equal(keepsGivens(p.question, p.answer), true);
      assert.equal(p.blanks, group[0]!.blanks);
    }
  }
});

test('subsampling keeps distinct rows, is seeded, and picks rows uniformly', () => {
  const path = writeCsv([HEADER, ...ROWS]);
  const picks = (seed: number) => loadSudokuCsv(path, { seed, subsample: 2 }).groups.map((g) => g[0]!.question.join(''));
  assert.deepEqual(picks(3), picks(3));
  const counts = new Map<string, number>();
  const runs = 500;
  for (let seed = 0; seed < runs; seed++) {
    const chosen = picks(seed);
    assert.equal(chosen.length, 2);
    assert.notEqual(chosen[0], chosen[1]);
    for (const q of chosen) counts.set(q, (counts.get(q) ?? 0) + 1);
  }
  // Each of 5 rows is kept with probability 2/5: 200 expected of 500; sd ~11.
  assert.equal(counts.size, 5);
  for (const n of counts.values()) assert.ok(n > 150 && n < 250, `row kept ${n} times`);
  assert.equal(loadSudokuCsv(path, { seed: 1, subsample: 50 }).groups.length, 5);
});

function rejects(line: string, pattern: RegExp, lineNumber = 3): void {
  const path = writeCsv([HEADER, ROWS[0]!, line, ROWS[1]!]);
  assert.throws(() => loadSudokuCsv(path, { seed: 1 }), (error: Error) => {
    assert.ok(error.message.startsWith(`${path}:${lineNumber}: `), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

test('malformed rows are rejected with file, 1-based line number and field', () => {
  const path = writeCsv([HEADER, ROWS[0]!, `short,${WIKI_PUZZLE},${WIKI_SOLUTION.slice(1)},0`]);
  assert.throws(() => loadSudokuCsv(path, { seed: 1 }),
    { message: `${path}:3: field "answer": expected 81 characters, got 80` });

  rejects(`a,${WIKI_PUZZLE},${WIKI_SOLUTION}`, /expected 4 fields/);
  rejects(`a,${WIKI_PUZZLE},${WIKI_SOLUTION},0,extra`, /expected 4 fields/);
  rejects(`a,${WIKI_PUZZLE}.,${WIKI_SOLUTION},0`, /field "question": expected 81 characters, got 82/);
  rejects(`a,x${WIKI_PUZZLE.slice(1)},${WIKI_SOLUTION},0`, /field "question": character 1 is "x"/);
  rejects(`a,${WIKI_PUZZLE},${WIKI_SOLUTION.slice(0, 80)}.,0`, /field "answer": character 81 is "\."/);
  // Swapping two digits of a row keeps the row valid but breaks two columns.
  const swapped = WIKI_SOLUTION[1]! + WIKI_SOLUTION[0]! + WIKI_SOLUTION.slice(2);
  rejects(`a,${'.'.repeat(81)},${swapped},0`, /field "answer": not a valid Sudoku solution/);
  // A valid solution that contradicts the givens: the relabelled one.
  rejects(`a,${WIKI_PUZZLE},${relabel(WIKI_SOLUTION)},0`, /field "answer": character 1 is 6 but the question gives 5/);
  rejects(`a,${WIKI_PUZZLE},${WIKI_SOLUTION},hard`, /field "rating": expected an integer/);
});

test('a wrong header or an empty file is rejected at line 1', () => {
  const badHeader = writeCsv(['question,answer', ...ROWS]);
  assert.throws(() => loadSudokuCsv(badHeader, { seed: 1 }), (e: Error) => e.message.startsWith(`${badHeader}:1: expected the header`));
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  assert.throws(() => loadSudokuCsv(empty, { seed: 1 }), (e: Error) => e.message.startsWith(`${empty}:1: `));
});

test('a CSV with only the header (no puzzles) is rejected, naming the file', () => {
  for (const text of ['source,question,answer,rating\n', 'source,question,answer,rating\n\n\n', 'source,question,answer,rating']) {
    const path = join(dir, `header-only-${text.length}.csv`);
    writeFileSync(path, text);
    assert.throws(() => loadSudokuCsv(path, { seed: 1 }), (e: Error) => e.message.startsWith(`${path}:2: no puzzles`));
  }
});

test('parsePuzzleString reads 16- and 81-character strings and explains bad ones', () => {
  assert.deepEqual([...parsePuzzleString('1.3.0402........', 4)], [1, 0, 3, 0, 0, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parsePuzzleString(WIKI_PUZZLE, 9)[0], 5);
  assert.throws(() => parsePuzzleString('1234', 4), /expected 16 characters, got 4/);
  assert.throws(() => parsePuzzleString('5...............', 4), /character 1 is "5", expected a digit 1-4 or '.'/);
  assert.throws(() => parsePuzzleString(WIKI_PUZZLE, 4), /expected 16 characters/);
});
