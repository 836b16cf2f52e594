"""The task data a torch run trains and evaluates on, and the training example stream.

Node writes the puzzles (its loaders are the one source of puzzles, so both engines see the same
held-out set) to `<run-dir>/worker/task-data.safetensors`, format 2 with `reclab.meta`
`{"kind": "reclab-task-data", "side", "vocabSize", "seqLen", "augmentOnTheFly"}` for Sudoku: cells
as in trainer/data/puzzle.ts (0 = blank, 1..side digits), tokens as trainer/data/tokenEncoding.ts
(PAD 0, blank 1, digit d -> d + 1). A maze file has `"task": "maze", "height", "width"` instead of
`side`: its cells are their tokens already (trainer/data/mazeGrid.ts: wall 1, open 2, S 3, G 4,
path 5; vocab 6), test/blanks holds each maze's shortest-path length, and its groups arrive
pre-augmented (augmentOnTheFly false), so no maze code is needed here.

The stream is trainer/train/exampleStream.ts: epochs over the groups in a fresh random order, one
random example of each group; with on-the-fly augmentation the drawn puzzle is replaced by a random
Sudoku symmetry of itself (trainer/data/sudokuAugment.ts: digits, transpose, band-respecting rows,
stack-respecting columns, drawn in that order). Its whole state is JSON for checkpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .errors import BadInput
from .train.act_carry import ExampleBatch

TASK_DATA_KIND = "reclab-task-data"
FIRST_DIGIT_TOKEN = 2
MAZE_VOCAB_SIZE = 6
MAZE_PATH = 5


@dataclass
class TaskData:
    side: int  # Sudoku side; 0 for a maze
    vocab_size: int
    seq_len: int
    augment_on_the_fly: bool
    train_questions: np.ndarray  # uint8 [P, L]
    train_solutions: np.ndarray  # uint8 [P, L]
    group_offsets: np.ndarray  # int64 [G + 1]; group g = rows offsets[g]..offsets[g+1]
    test_questions: np.ndarray  # uint8 [N, L]
    test_solutions: np.ndarray  # uint8 [N, L]
    test_blanks: np.ndarray  # int32 [N]: difficulty (blank cells, or a maze's path length)
    task: str = "sudoku"

    @property
    def groups(self) -> int:
        return len(self.group_offsets) - 1

    @property
    def token_offset(self) -> int:
        """Token = cell + token_offset: 1 for Sudoku (blank 0 -> 1), 0 for maze cells."""
        return 0 if self.task == "maze" else 1


def encode_questions(grids: np.ndarray, offset: int = 1) -> torch.Tensor:
    """Sudoku (offset 1): blank 0 -> token 1, digit d -> d + 1; maze (offset 0): cells are tokens."""
    return torch.from_numpy(grids.astype(np.int64) + offset)


def encode_answers(grids: np.ndarray, offset: int = 1) -> torch.Tensor:
    return torch.from_numpy(grids.astype(np.int64) + offset)


def encode_puzzles(questions: np.ndarray, solutions: np.ndarray, blanks: np.ndarray, offset: int = 1) -> ExampleBatch:
    return ExampleBatch(encode_questions(questions, offset), encode_answers(solutions, offset), torch.from_numpy(blanks.astype(np.int32)))


def _load_maze(path: str, meta: Dict[str, Any], take: Any) -> TaskData:
    h, w = meta.get("height"), meta.get("width")
    if not (isinstance(h, int) and isinstance(w, int) and h >= 2 and w >= 2):
        raise BadInput(f"{path}: reclab.meta height and width must be integers >= 2, got {h!r}, {w!r}")
    L = h * w
    for key, want in (("seqLen", L), ("vocabSize", MAZE_VOCAB_SIZE)):
        if meta.get(key) != want:
            raise BadInput(f"{path}: reclab.meta {key} must be {want} for a {h}x{w} maze, got {meta.get(key)!r}")
    if meta.get("augmentOnTheFly"):
        raise BadInput(f"{path}: reclab.meta augmentOnTheFly must be false for a maze (groups arrive pre-augmented)")
    tq, ts = take("train/questions", np.uint8, 2), take("train/solutions", np.uint8, 2)
    offsets = take("train/group_offsets", np.int32, 1).astype(np.int64)
    eq, es = take("test/questions", np.uint8, 2), take("test/solutions", np.uint8, 2)
    eb = take("test/blanks", np.int32, 1)
    for name, a, top in (("train/questions", tq, MAZE_PATH - 1), ("train/solutions", ts, MAZE_PATH),
                         ("test/questions", eq, MAZE_PATH - 1), ("test/solutions", es, MAZE_PATH)):
        if a.shape[1] != L:
            raise BadInput(f"{path}: tensor {name} has {a.shape[1]} cells a row, a {h}x{w} maze needs {L}")
        if a.size and (a.min() < 1 or a.max() > top):
            raise BadInput(f"{path}: tensor {name} holds a cell outside 1..{top}")
    if tq.shape != ts.shape or eq.shape != es.shape or eb.shape[0] != eq.shape[0]:
        raise BadInput(f"{path}: questions, solutions and blanks disagree in their number of rows")
    if tq.shape[0] == 0 or len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != tq.shape[0] or np.any(np.diff(offsets) <= 0):
        raise BadInput(f"{path}: train/group_offsets must rise strictly from 0 to {tq.shape[0]} (no empty group, training set not empty)")
    if np.any((es == MAZE_PATH).sum(axis=1) + 1 != eb):
        raise BadInput(f"{path}: test/blanks does not match the path lengths of test/solutions")
    return TaskData(0, MAZE_VOCAB_SIZE, L, False, tq, ts, offsets, eq, es, eb, task="maze")


def load_task_data(path: str) -> TaskData:
    """Reads and checks the task-data file; a bad file is BadInput naming the file and the tensor."""
    from .weights import read_weights  # the verified format-2 reader

    try:
        f = read_weights(path, check_finite=False)
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot read task data: {e}") from e
    tensors, meta, fmt = f.tensors, f.meta, f.format
    if fmt != "reclab-weights" or not isinstance(meta, dict) or meta.get("kind") != TASK_DATA_KIND:
        raise BadInput(f"{path}: not a task-data file (reclab.format {fmt!r}, meta kind {meta.get('kind') if isinstance(meta, dict) else None!r})")
    def take(name: str, dtype: Any, ndim: int) -> np.ndarray:
        if name not in tensors:
            raise BadInput(f"{path}: tensor {name} is missing")
        a = np.asarray(tensors[name])
        if a.dtype != dtype or a.ndim != ndim:
            raise BadInput(f"{path}: tensor {name} must be {np.dtype(dtype).name} with {ndim} dimension(s), got {a.dtype} {list(a.shape)}")
        return a

    if meta.get("task", "sudoku") == "maze":
        return _load_maze(path, meta, take)
    if meta.get("task", "sudoku") != "sudoku":
        raise BadInput(f"{path}: reclab.meta task must be \"sudoku\" or \"maze\", got {meta.get('task')!r}")
    side = meta.get("side")
    if side not in (4, 9):
        raise BadInput(f"{path}: reclab.meta side must be 4 or 9, got {side!r}")
    L = side * side
    for key, want in (("seqLen", L), ("vocabSize", side + 2)):
        if meta.get(key) != want:
            raise BadInput(f"{path}: reclab.meta {key} must be {want} for side {side}, got {meta.get(key)!r}")

    tq, ts = take("train/questions", np.uint8, 2), take("train/solutions", np.uint8, 2)
    offsets = take("train/group_offsets", np.int32, 1).astype(np.int64)
    eq, es = take("test/questions", np.uint8, 2), take("test/solutions", np.uint8, 2)
    eb = take("test/blanks", np.int32, 1)
    for name, a in (("train/questions", tq), ("train/solutions", ts), ("test/questions", eq), ("test/solutions", es)):
        if a.shape[1] != L:
            raise BadInput(f"{path}: tensor {name} has {a.shape[1]} cells a row, side {side} needs {L}")
        if a.max(initial=0) > side:
            raise BadInput(f"{path}: tensor {name} holds a cell value above {side}")
    if tq.shape != ts.shape or eq.shape != es.shape or eb.shape[0] != eq.shape[0]:
        raise BadInput(f"{path}: questions, solutions and blanks disagree in their number of rows")
    for name, a in (("train/solutions", ts), ("test/solutions", es)):
        if a.size and a.min() < 1:
            raise BadInput(f"{path}: tensor {name} holds a blank (solutions are complete grids)")
    if tq.shape[0] == 0 or len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != tq.shape[0] or np.any(np.diff(offsets) <= 0):
        raise BadInput(f"{path}: train/group_offsets must rise strictly from 0 to {tq.shape[0]} (no empty group, training set not empty)")
    if np.any((eq == 0).sum(axis=1) != eb):
        raise BadInput(f"{path}: test/blanks does not match the blanks of test/questions")
    return TaskData(side, side + 2, L, bool(meta.get("augmentOnTheFly")), tq, ts, offsets, eq, es, eb)


# Augmentation ---------------------------------------------------------------------------------

def _band_permutation(side: int, rng: np.random.Generator) -> np.ndarray:
    box = int(round(math.sqrt(side)))
    return np.array([band * box + row for band in rng.permutation(box) for row in rng.permutation(box)], dtype=np.int64)


def random_transform(side: int, rng: np.random.Generator) -> Dict[str, Any]:
    """A random symmetry of the Sudoku rules, drawn in the reference's order: digits, transpose, rows, columns."""
    digit_map = np.zeros(side + 1, dtype=np.uint8)
    digit_map[1:] = rng.permutation(side) + 1
    transpose = bool(rng.random() < 0.5)
    return {"digit_map": digit_map, "transpose": transpose, "row_perm": _band_permutation(side, rng), "col_perm": _band_permutation(side, rng)}


def apply_transform(grid: np.ndarray, t: Dict[str, Any], side: int) -> np.ndarray:
    """Cell (i, j) of the result is cell (row_perm[i], col_perm[j]) of the (transposed) grid, digits mapped."""
    g = grid.reshape(side, side)
    if t["transpose"]:
        g = g.T
    return t["digit_map"][g[t["row_perm"]][:, t["col_perm"]]].reshape(-1)


# The stream -----------------------------------------------------------------------------------

def _rng_state(rng: np.random.Generator) -> Dict[str, Any]:
    s = rng.bit_generator.state
    return {"bit_generator": s["bit_generator"], "state": {"state": str(s["state"]["state"]), "inc": str(s["state"]["inc"])},
            "has_uint32": s["has_uint32"], "uinteger": s["uinteger"]}


def _rng_from_state(s: Dict[str, Any]) -> np.random.Generator:
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = {"bit_generator": s["bit_generator"], "state": {"state": int(s["state"]["state"]), "inc": int(s["state"]["inc"])},
                               "has_uint32": s["has_uint32"], "uinteger": s["uinteger"]}
    return rng


class ExampleStream:
    def __init__(self, data: TaskData, seed: Optional[int] = None, state: Optional[Dict[str, Any]] = None):
        if data.groups == 0:
            raise BadInput("training set is empty")
        self.data = data
        if state is None:
            self.rng = np.random.Generator(np.random.PCG64(seed))
            self.order: List[int] = [int(i) for i in self.rng.permutation(data.groups)]
            self.position = 0
        else:
            self.rng = _rng_from_state(state["rng"])
            self.order = [int(i) for i in state["order"]]
            self.position = int(state["position"])

    def state(self) -> Dict[str, Any]:
        return {"rng": _rng_state(self.rng), "order": list(self.order), "position": self.position}

    def next(self, size: int) -> ExampleBatch:
        d = self.data
        q = np.empty((size, d.seq_len), dtype=np.uint8)
        a = np.empty((size, d.seq_len), dtype=np.uint8)
        for r in range(size):
            if self.position >= len(self.order):
                self.order = [int(i) for i in self.rng.permutation(d.groups)]
                self.position = 0
            g = self.order[self.position]
            self.position += 1
            lo, hi = int(d.group_offsets[g]), int(d.group_offsets[g + 1])
            row = lo if hi - lo == 1 else lo + int(self.rng.integers(hi - lo))
            if d.augment_on_the_fly:
                t = random_transform(d.side, self.rng)
                q[r], a[r] = apply_transform(d.train_questions[row], t, d.side), apply_transform(d.train_solutions[row], t, d.side)
            else:
                q[r], a[r] = d.train_questions[row], d.train_solutions[row]
        if d.task == "maze":
            return encode_puzzles(q, a, (a == MAZE_PATH).sum(axis=1) + 1, offset=0)
        return encode_puzzles(q, a, (q == 0).sum(axis=1))
