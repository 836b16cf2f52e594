"""Refinement snapshots in protocol/refinement.ts's encoding (trainer/train/refinementTrajectory.ts):
the probe puzzles traced from H_init/L_init for N_sup steps at full depth without gradient; after
every step (or every H cycle) the argmax digit of each cell, its probability x 255 and q_halt, as
base64 Uint8 [puzzles, frames, cells] / Float32 [puzzles, frames]. A maze trajectory (task "maze")
records the predicted cell token (1 wall .. 5 path, 0 for PAD), its questions and solutions in the
characters "# SGo" and its path lengths as `blanks`; a Sudoku one is unchanged (no task field).
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

FIRST_DIGIT_TOKEN = 2
MAZE_CHARSET = "# SGo"  # cell value v is MAZE_CHARSET[v - 1] (trainer/data/mazeGrid.ts)
MAZE_WALL, MAZE_PATH = 1, 5


def maze_string(cells: Sequence[int]) -> str:
    """Row-major maze cells 1..5 as "# SGo" characters."""
    return "".join(MAZE_CHARSET[int(c) - 1] if 1 <= int(c) <= 5 else "?" for c in cells)


def grid_string(cells: Sequence[int]) -> str:
    """Row-major, '.' for blanks (trainer/data/puzzleString.ts)."""
    return "".join("." if int(c) == 0 else str(int(c)) for c in cells)


def probe_indices(blanks: Sequence[int], count: int) -> List[int]:
    """`count` held-out puzzles spread from the fewest to the most blanks (probePuzzles in TS)."""
    if len(blanks) == 0:
        return []
    order = sorted(range(len(blanks)), key=lambda i: int(blanks[i]))  # stable, as JS sort
    n = min(count, len(order))
    return [order[0 if n == 1 else int(np.floor((i * (len(order) - 1)) / (n - 1) + 0.5))] for i in range(n)]


def stablemax_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """s(x) = x + 1 for x >= 0, 1 / (1 - x) below; normalised over the last axis."""
    s = torch.where(logits >= 0, logits + 1, 1 / (1 - torch.clamp(logits, max=0)))
    return s / s.sum(dim=-1, keepdim=True)


def encode_trajectory(side: int, questions: np.ndarray, solutions: Optional[np.ndarray], steps: int, cycles_per_step: int,
                      digits: np.ndarray, confidence: np.ndarray, q_halt: np.ndarray, task: str = "sudoku",
                      blanks: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """The RefinementTrajectory object. digits/confidence uint8 [P, F, L] (confidence = probability x 255), q_halt float [P, F].
    A maze (task "maze") takes its path lengths as `blanks`."""
    P = questions.shape[0]
    F = steps * cycles_per_step
    L = side * side
    digits = np.ascontiguousarray(digits, dtype=np.uint8)
    confidence = np.ascontiguousarray(confidence, dtype=np.uint8)
    q_halt = np.ascontiguousarray(q_halt, dtype="<f4")
    for name, a, shape in (("digits", digits, (P, F, L)), ("confidence", confidence, (P, F, L)), ("qHalt", q_halt, (P, F))):
        if a.shape != shape:
            raise ValueError(f"refinement snapshot: {name} has shape {list(a.shape)}, expected {list(shape)}")
    b64 = lambda a: base64.b64encode(a.tobytes()).decode("ascii")  # noqa: E731
    if task == "maze":
        if blanks is None or solutions is None:
            raise ValueError("refinement snapshot: a maze trajectory needs the solutions and the path lengths")
        mazes = [{"question": maze_string(questions[i]), "solution": maze_string(solutions[i]), "blanks": int(blanks[i])} for i in range(P)]
        return {"task": "maze", "side": side, "puzzles": mazes, "steps": steps, "cyclesPerStep": cycles_per_step,
                "digits": b64(digits), "confidence": b64(confidence), "qHalt": b64(q_halt)}
    puzzles = []
    for i in range(P):
        entry: Dict[str, Any] = {"question": grid_string(questions[i])}
        if solutions is not None and not np.any(solutions[i] == 0):
            entry["solution"] = grid_string(solutions[i])
        entry["blanks"] = int((questions[i] == 0).sum())
        puzzles.append(entry)
    return {"side": side, "puzzles": puzzles, "steps": steps, "cyclesPerStep": cycles_per_step,
            "digits": b64(digits), "confidence": b64(confidence), "qHalt": b64(q_halt)}


def frame_of_logits(logits: torch.Tensor, side: int, loss_type: str, task: str = "sudoku") -> Tuple[np.ndarray, np.ndarray]:
    """Per cell: the predicted digit (0 when the argmax is not a digit token) or, for a maze, the
    predicted cell token (0 for PAD), and its probability x 255."""
    probs = torch.softmax(logits.float(), dim=-1) if loss_type == "softmax" else stablemax_probabilities(logits.float())
    best_p, best = probs.max(dim=-1)
    best = best.cpu().numpy()
    if task == "maze":
        digits = np.where((best >= MAZE_WALL) & (best <= MAZE_PATH), best, 0).astype(np.uint8)
    else:
        is_digit = (best >= FIRST_DIGIT_TOKEN) & (best < FIRST_DIGIT_TOKEN + side)
        digits = np.where(is_digit, best - FIRST_DIGIT_TOKEN + 1, 0).astype(np.uint8)
    return digits, np.floor(best_p.cpu().numpy().astype(np.float64) * 255 + 0.5).astype(np.uint8)


@torch.no_grad()
def trace_refinement(start: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                     h_cycle: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor]],
                     heads: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]],
                     questions: np.ndarray, solutions: np.ndarray, side: int, steps: int, h_cycles: int,
                     per_cycle: bool, loss_type: str, task: str = "sudoku", blanks: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """`h_cycle` runs one H cycle (n L updates and the H update); `heads(z_h)` gives (logits, q_halt).
    Sudoku questions are cells (token = cell + 1); maze questions are their tokens already, and
    `side` is the maze's side, `blanks` its path lengths."""
    P, L = questions.shape
    C = h_cycles if per_cycle else 1
    F = steps * C
    digits = np.zeros((P, F, L), dtype=np.uint8)
    confidence = np.zeros((P, F, L), dtype=np.uint8)
    q_halt = np.zeros((P, F), dtype=np.float32)
    z_h, z_l, x = start(torch.from_numpy(questions.astype(np.int64) + (0 if task == "maze" else 1)))
    frame = 0
    for _ in range(steps):
        for c in range(h_cycles):
            z_h, z_l = h_cycle(z_h, z_l, x)
            if not per_cycle and c < h_cycles - 1:
                continue
            logits, q = heads(z_h)
            digits[:, frame], confidence[:, frame] = frame_of_logits(logits, side, loss_type, task)
            q_halt[:, frame] = q.float().cpu().numpy()
            frame += 1
    return encode_trajectory(side, questions, solutions, steps, C, digits, confidence, q_halt, task, blanks)
