// Mazes as a task: the generator's unique shortest paths (checked by a BFS written here, which
// counts every shortest path), the 8 dihedral maps, the Maze-Hard CSV loader and its errors, the
// CSV -> training data split (issue 12 item 4), and the maze task data read back by the torch
// engine's own loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../trainer/inputError';
import { Rng } from '../../trainer/random';
import { applyDihedral, DIHEDRAL_INDICES, dihedralGroup, inverseDihedral } from '../../trainer/data/mazeAugment';
import { loadMazeCsv } from '../../trainer/data/mazeCsv';
import { buildGeneratedMazeDataset, generateMaze } from '../../trainer/data/mazeGenerator';
import { mazeToText } from '../../trainer/data/mazeGrid';
import { loadTaskData } from '../../trainer/data/taskData';
import { loadSudokuCsv } from '../../trainer/data/sudokuCsv';
import { writeTaskDataFile } from '../../trainer/engines/taskDataFile';
import { scorePaths, scorePredictions } from '../../trainer/train/evaluate';
import type { ExampleBatch } from '../../trainer/train/exampleBatch';
import { encodePuzzles } from '../../trainer/train/exampleStream';

const dir = mkdtempSync(join(tmpdir(), 'maze-data-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function writeCsv(lines: string[]): string {
  const path = join(dir, `mazes${++files}.csv`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/**
 * Independent check of a maze text: number of shortest S-G paths (uncapped), their length, and
 * whether the 'o' cells of the answer form one of them.
 */
function shortestPaths(answerText: string): { count: number; length: number; answerIsShortestPath: boolean } {
  const rows = answerText.split('\n');
  const H = rows.length, W = rows[0]!.length;
  const at = (r: number, c: number) => rows[r]![c]!;
  let start = [-1, -1], goal = [-1, -1];
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) {
    if (at(r, c) === 'S') start = [r, c];
    if (at(r, c) === 'G') goal = [r, c];
  }
  const dist = rows.map((row) => [...row].map(() => Infinity));
  const ways = rows.map((row) => [...row].map(() => 0));
  dist[start[0]!]![start[1]!] = 0;
  ways[start[0]!]![start[1]!] = 1;
  const queue = [start];
  while (queue.length) {
    const [r, c] = queue.shift()! as [number, number];
    for (const [nr, nc] of [[r + 1, c], [r - 1, c], [r, c + 1], [r, c - 1]] as [number, number][]) {
      if (nr < 0 || nc < 0 || nr >= H || nc >= W || at(nr, nc) === '#') continue;
      if (dist[nr]![nc] === Infinity) {
        dist[nr]![nc] = dist[r]![c]! + 1;
        queue.push([nr, nc]);
      }
      if (dist[nr]![nc] === dist[r]![c]! + 1) ways[nr]![nc]! += ways[r]![c]!;
    }
  }
  const length = dist[goal[0]!]![goal[1]!]!;
  // The 'o' cells are a shortest path when there are length-1 of them and each is on some
  // shortest path with its distance from S plus its distance to G equal to the length, walking
  // S -> o... -> G one step at a time.
  let [r, c] = start as [number, number];
  const visited = new Set<string>();
  let steps = 0;
  for (;;) {
    const next = ([[r + 1, c], [r - 1, c], [r, c + 1], [r, c - 1]] as [number, number][])
      .filter(([nr, nc]) => nr >= 0 && nc >= 0 && nr < H && nc < W && (at(nr, nc) === 'o' || at(nr, nc) === 'G') && !visited.has(`${nr},${nc}`));
    const goalNext = next.find(([nr, nc]) => at(nr, nc) === 'G');
    steps++;
    if (goalNext) break;
    if (next.length !== 1) return { count: ways[goal[0]!]![goal[1]!]!, length, answerIsShortestPath: false };
    visited.add(`${r},${c}`);
    [r, c] = next[0]!;
  }
  const pathCells = [...answerText].filter((ch) => ch === 'o').length;
  return { count: ways[goal[0]!]![goal[1]!]!, length, answerIsShortestPath: steps === length && pathCells === length - 1 };
}

const shape = (side: number) => ({ height: side, width: side });

test('generated mazes: exactly one shortest S-G path, at least minPathLength moves, marked in the answer', () => {
  const rng = new Rng(3);
  for (const [side, min] of [[5, 4], [9, 8], [10, 10], [15, 20]] as const) {
    for (let n = 0; n < 15; n++) {
      const p = generateMaze(side, min, rng);
      const check = shortestPaths(mazeToText(p.answer, shape(side)));
      assert.equal(check.count, 1, `${side}x${side} maze ${n} has ${check.count} shortest paths`);
      assert.ok(check.length >= min, `path of ${check.length} moves < ${min}`);
      assert.equal(p.blanks, check.length, 'difficulty = path length in moves');
      assert.ok(check.answerIsShortestPath, `answer path is not the shortest path:\n${mazeToText(p.answer, shape(side))}`);
      // The question is the answer without its path.
      assert.equal(mazeToText(p.question, shape(side)), mazeToText(p.answer, shape(side)).replace(/o/g, ' '));
    }
  }
});

test('the generated dataset is deterministic, sorted by path length, and shares no maze (up to symmetry) between train and test', () => {
  const opts = { size: 7, trainMazes: 60, testMazes: 20, minPathLength: 6, augment: true, seed: 11 };
  const a = buildGeneratedMazeDataset(opts);
  const b = buildGeneratedMazeDataset(opts);
  assert.deepEqual(a, b);
  assert.notDeepEqual(buildGeneratedMazeDataset({ ...opts, seed: 12 }).test, a.test);
  assert.equal(a.trainGroups.length, 60);
  assert.ok(a.trainGroups.every((g) => g.length === 8));
  assert.deepEqual(a.test.map((p) => p.blanks), [...a.test.map((p) => p.blanks)].sort((x, y) => x - y));
  const testTexts = new Set(a.test.map((p) => mazeToText(p.question, shape(7))));
  for (const g of a.trainGroups) for (const p of g) assert.ok(!testTexts.has(mazeToText(p.question, shape(7))), 'a test maze image is trained on');
});

test('the 8 dihedral maps: hand-checked on a 3x3 grid, distinct, each undone by its inverse', () => {
  const grid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Quarter turn clockwise: the left column read bottom-up becomes the top row.
  assert.deepEqual([...applyDihedral(grid, 1, 3)], [7, 4, 1, 8, 5, 2, 9, 6, 3]);
  assert.deepEqual([...applyDihedral(grid, 2, 3)], [9, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual([...applyDihedral(grid, 4, 3)], [1, 4, 7, 2, 5, 8, 3, 6, 9]);
  const images = DIHEDRAL_INDICES.map((k) => [...applyDihedral(grid, k, 3)].join(''));
  assert.equal(new Set(images).size, 8);
  for (const k of DIHEDRAL_INDICES) {
    assert.deepEqual(applyDihedral(applyDihedral(grid, k, 3), inverseDihedral(k), 3), grid, `map ${k} then its inverse`);
  }
  // A group: composing any two maps gives one of the eight.
  for (const j of DIHEDRAL_INDICES) for (const k of DIHEDRAL_INDICES) {
    assert.ok(images.includes([...applyDihedral(applyDihedral(grid, j, 3), k, 3)].join('')));
  }
});

test('every dihedral image of a maze keeps a unique shortest path of the same length, marked in its answer', () => {
  const rng = new Rng(5);
  for (let n = 0; n < 10; n++) {
    const p = generateMaze(9, 8, rng);
    const group = dihedralGroup(p, 9);
    assert.equal(group[0], p, 'the original comes first');
    assert.equal(new Set(group.map((g) => mazeToText(g.question, shape(9)))).size, 8, 'generated mazes have no symmetry');
    for (const image of group) {
      const check = shortestPaths(mazeToText(image.answer, shape(9)));
      assert.equal(check.count, 1);
      assert.equal(check.length, p.blanks);
      assert.ok(check.answerIsShortestPath);
    }
  }
});

// A 4x4 maze (hand-made): S top left, G bottom right; the one shortest path (6 moves) runs
// S(0,0) -> (0,1) -> (0,2) -> (1,2) -> (2,2) -> (3,2) -> G(3,3); (2,1) and (3,1) are a dead end.
const Q = ['S  #', '## #', '#  #', '#  G'].join('');
const HEADER = 'source,question,answer,rating';

test('maze CSV errors name the file and line', () => {
  const answer = ['Soo#', '##o#', '# o#', '# oG'].join('');
  const ok = `ok,${Q},${answer},1`;
  const cases: [string, RegExp][] = [
    [`short,${Q.slice(1)},${answer},1`, /:3: field "question": expected 16 characters, got 15/],
    [`badchar,${Q.replace('#', 'x')},${answer},1`, /:3: field "question": character 4 is "x"/],
    [`pathInQuestion,${Q.replace(' ', 'o')},${answer},1`, /:3: field "question": character 2 is "o", expected one of "# SG"/],
    [`noS,${Q.replace('S', ' ')},${answer},1`, /:3: field "question": expected exactly one start S, found 0/],
    [`twoG,${Q.replace('#', 'G')},${answer},1`, /:3: field "question": expected exactly one goal G, found 2/],
    [`wallMoved,${Q},${answer.replace('#', ' ')},1`, /:3: field "answer": character 4 is " " but the question has "#" there/],
    [`fields,${Q},${answer}`, /:3: expected 4 fields/],
    [`rating,${Q},${answer},x`, /:3: field "rating": expected an integer/],
  ];
  for (const [row, message] of cases) {
    const path = writeCsv([HEADER, ok, row]);
    assert.throws(() => loadMazeCsv(path, { augment: false, seed: 0 }), (e: Error) => {
      assert.ok(e instanceof InputError, `${row}: ${e.message}`);
      assert.ok(e.message.startsWith(path + ':'), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
  const noHeader = writeCsv([ok]);
  assert.throws(() => loadMazeCsv(noHeader, { augment: false, seed: 0 }), (e: Error) => e instanceof InputError && e.message.startsWith(`${noHeader}:1: expected the header`));
  const notSquare = writeCsv([HEADER, `x,${'S G' + ' '.repeat(12)},${'S G' + ' '.repeat(12)},1`]);
  assert.throws(() => loadMazeCsv(notSquare, { augment: false, seed: 0 }), /:2: field "question": 15 characters is not a square maze/);
});

test('maze CSV -> training data: train groups of 8 images (original first), test unaugmented in file order', () => {
  const answer = ['Soo#', '##o#', '# o#', '# oG'].join('');
  // S(3,0) along the bottom, up the right side, back along the top to G(0,0): 9 moves.
  const second = ['G   ', '### ', '  # ', 'S   '].join('');
  const secondAnswer = ['Gooo', '###o', '  #o', 'Sooo'].join('');
  const train = writeCsv([HEADER, `one,${Q},${answer},1`, `two,${second},${secondAnswer},2`]);
  const test2 = writeCsv([HEADER, `two,${second},${secondAnswer},2`, `one,${Q},${answer},1`]);
  const data = loadTaskData({ kind: 'maze-csv', trainFile: train, testFile: test2, augment: true }, 0);
  assert.deepEqual(data.task, { kind: 'maze', height: 4, width: 4 });
  assert.equal(data.vocabSize, 6);
  assert.equal(data.seqLen, 16);
  assert.equal(data.augmentOnTheFly, false);
  assert.equal(data.trainGroups.length, 2);
  const text = (g: Uint8Array) => mazeToText(g, shape(4)).replace(/\n/g, '');
  assert.deepEqual(data.trainGroups.map((g) => [g.length, text(g[0]!.question), text(g[0]!.answer)]), [[8, Q, answer], [8, second, secondAnswer]]);
  assert.deepEqual(data.test.map((p) => [text(p.question), text(p.answer), p.blanks]), [[second, secondAnswer, 9], [Q, answer, 6]]);
  for (const g of data.trainGroups) for (const p of g) {
    const check = shortestPaths(mazeToText(p.answer, shape(4)));
    assert.equal(check.count, 1);
    assert.ok(check.answerIsShortestPath);
  }
  // The model sees the cells as tokens unchanged: '#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5.
  const batch = encodePuzzles(data.test.slice(1), 16, data.task);
  assert.deepEqual([...batch.tokens.slice(0, 4)], [3, 2, 2, 1]);
  assert.deepEqual([...batch.labels.slice(0, 4)], [3, 5, 5, 1]);
});

test('Sudoku CSV -> training data: the original puzzle first in each group, the test split not augmented', () => {
  const puzzle = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
  const solution = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
  const path = writeCsv([HEADER, `wiki,${puzzle},${solution},0`]);
  const data = loadTaskData({ kind: 'sudoku-csv', trainFile: path, testFile: path, augmentationsPerPuzzle: 5 }, 0);
  assert.equal(data.trainGroups.length, 1);
  assert.equal(data.trainGroups[0]!.length, 6);
  assert.deepEqual(data.trainGroups[0]![0]!.question, loadSudokuCsv(path, { seed: 9 }).groups[0]![0]!.question);
  assert.equal([...data.trainGroups[0]![0]!.answer].join(''), solution);
  assert.equal(data.test.length, 1);
  assert.equal([...data.test[0]!.answer].join(''), solution);
  assert.ok(data.trainGroups[0]!.slice(1).some((p) => [...p.answer].join('') !== solution), 'the copies are augmented');
});

test('the maze task data reaches the torch engine unchanged: its loader reads the same cells, path lengths and tokens', () => {
  const data = loadTaskData({ kind: 'generated-maze', size: 7, trainMazes: 6, testMazes: 5, minPathLength: 6, augment: true }, 2);
  const path = join(dir, 'maze-task-data.safetensors');
  writeTaskDataFile(path, data);
  const expected = {
    trainQ: data.trainGroups.flat().map((p) => [...p.question]), trainA: data.trainGroups.flat().map((p) => [...p.answer]),
    testQ: data.test.map((p) => [...p.question]), testA: data.test.map((p) => [...p.answer]), blanks: data.test.map((p) => p.blanks),
  };
  writeFileSync(join(dir, 'maze-expected.json'), JSON.stringify(expected));
  const script = `
import json, sys
from reclab.data import ExampleStream, encode_puzzles, load_task_data
d = load_task_data(sys.argv[1]); e = json.load(open(sys.argv[2]))
assert (d.task, d.vocab_size, d.seq_len, d.augment_on_the_fly, d.token_offset) == ("maze", 6, 49, False, 0), (d.task, d.vocab_size, d.seq_len)
assert d.train_questions.tolist() == e["trainQ"] and d.train_solutions.tolist() == e["trainA"]
assert d.test_questions.tolist() == e["testQ"] and d.test_solutions.tolist() == e["testA"] and d.test_blanks.tolist() == e["blanks"]
assert d.group_offsets.tolist() == list(range(0, 49, 8))
b = encode_puzzles(d.test_questions, d.test_solutions, d.test_blanks, d.token_offset)
assert b.tokens.tolist() == e["testQ"] and b.labels.tolist() == e["testA"]
s = ExampleStream(d, seed=0).next(4)
assert all(row in e["trainQ"] for row in s.tokens.tolist())
print("ok")
`;
  const python = execFileSync('bash', [resolve(__dirname, '../setup/python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const r = spawnSync(python, ['-c', script, path, join(dir, 'maze-expected.json')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: resolve(__dirname, '../../engines/torch') } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});

test('maze scores: exact accuracy over all cells, path-cell exact accuracy and IoU (hand-computed)', () => {
  // Two 4-cell rows; token 5 is the path. Row 0 true path {1, 2}, predicted {1, 2}: exact, IoU 1.
  // Row 1 true path {0, 1, 2}, predicted {1, 2, 3}: intersection 2, union 4, IoU 0.5, not exact.
  const labels = Int32Array.from([3, 5, 5, 4, 5, 5, 5, 4]);
  const predictions = Int32Array.from([3, 5, 5, 4, 2, 5, 5, 5]);
  assert.deepEqual(scorePaths(labels, predictions, 4, 5), { exactAccuracy: 0.5, iou: 0.75 });
  const batch: ExampleBatch = { size: 2, seqLen: 4, tokens: new Int32Array(8), labels, blanks: Int32Array.from([3, 4]) };
  const r = scorePredictions(batch, predictions, Float32Array.from([1, -1]), 5);
  assert.equal(r.exactAccuracy, 0.5);
  assert.equal(r.tokenAccuracy, (4 / 4 + 2 / 4) / 2);
  assert.deepEqual(r.path, { exactAccuracy: 0.5, iou: 0.75 });
  assert.deepEqual(r.byBlanks.map((b) => [b.blanks, b.exactAccuracy]), [[3, 1], [4, 0]], 'per path length');
  assert.equal(scorePredictions(batch, predictions, Float32Array.from([1, -1])).path, undefined, 'Sudoku: no path scores');
});
