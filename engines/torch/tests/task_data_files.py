"""Task-data files for the tests, written as Node writes them (h11 worker interface item 2).

Solutions are valid Sudoku grids built from the classic pattern (box * (r mod box) + r div box + c)
mod side, shuffled by row/column/digit symmetries; blanks are chosen at random. Uniqueness of the
solution does not matter to the code under test (the stream, the reader, the loop)."""
import math

import numpy as np

from reclab.weights import write_weights


def valid_grid(side, rng):
    box = int(math.isqrt(side))
    g = np.array([[(box * (r % box) + r // box + c) % side + 1 for c in range(side)] for r in range(side)], dtype=np.uint8)
    rows = [b * box + r for b in rng.permutation(box) for r in rng.permutation(box)]
    cols = [b * box + c for b in rng.permutation(box) for c in rng.permutation(box)]
    digits = np.concatenate([[0], rng.permutation(side) + 1]).astype(np.uint8)
    return digits[g[rows][:, cols]].reshape(-1)


def is_valid_solution(grid, side):
    g = np.asarray(grid).reshape(side, side)
    box = int(math.isqrt(side))
    want = set(range(1, side + 1))
    units = [g[i] for i in range(side)] + [g[:, j] for j in range(side)]
    units += [g[r:r + box, c:c + box].reshape(-1) for r in range(0, side, box) for c in range(0, side, box)]
    return all(set(int(x) for x in u) == want for u in units)


def puzzles(side, count, blank_range, rng):
    L = side * side
    q = np.zeros((count, L), dtype=np.uint8)
    a = np.zeros((count, L), dtype=np.uint8)
    for i in range(count):
        a[i] = valid_grid(side, rng)
        q[i] = a[i]
        blanks = int(rng.integers(blank_range[0], blank_range[1] + 1))
        q[i, rng.choice(L, blanks, replace=False)] = 0
    return q, a


def write_task_data(path, side=4, train=64, test_blanks=(4, 6, 8), test_per_blank=8, groups_of=1, augment=True, seed=0):
    rng = np.random.default_rng(seed)
    tq, ta = puzzles(side, train, (2, side * side // 2), rng)
    eq_parts, ea_parts, eb = [], [], []
    for b in test_blanks:
        q, a = puzzles(side, test_per_blank, (b, b), rng)
        eq_parts.append(q)
        ea_parts.append(a)
        eb += [b] * test_per_blank
    offsets = np.arange(0, train + 1, groups_of, dtype=np.int32)
    if offsets[-1] != train:
        offsets = np.append(offsets, np.int32(train))
    write_weights(str(path), {
        "train/questions": tq, "train/solutions": ta, "train/group_offsets": offsets,
        "test/questions": np.concatenate(eq_parts), "test/solutions": np.concatenate(ea_parts), "test/blanks": np.array(eb, dtype=np.int32),
    }, kind="reclab-weights", meta={"kind": "reclab-task-data", "side": side, "vocabSize": side + 2, "seqLen": side * side, "augmentOnTheFly": augment})
    return path
