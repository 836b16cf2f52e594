"""Evaluation as in the reference (reference.md §1.6; trainer/train/evaluate.ts): every puzzle runs
exactly N_sup supervision steps at full depth with no early halting and the answer after the last
step is scored, overall and per blank count. The same pass scores the early-exit evaluation (CGAR's
"reasoning steps"): each row stops at its first step where the model's halting rule fires (N_sup if
it never does): q_halt > 0 (TRM), q_halt > q_continue (HRM).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .data import ExampleBatch

# (z_h, z_l, x) -> (z_h, z_l, logits [B, L, V], q_halt [B][, q_continue [B]]): one supervision step
# without gradient; a model that halts on q_halt > q_continue (HRM) returns q_continue as well.
SupervisionStep = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Tuple[torch.Tensor, ...]]


class EvaluationAborted(Exception):
    """A stop request arrived between evaluation batches."""


def score_predictions(labels: torch.Tensor, blanks: torch.Tensor, predictions: torch.Tensor, q_halt: torch.Tensor) -> Dict[str, Any]:
    """Exact, token and q-halt accuracy ((q_halt >= 0) == exact), overall and per blank count."""
    n, L = labels.shape
    right = (predictions == labels).sum(dim=1)
    exact = right == L
    token = right.double() / L
    q_ok = (q_halt >= 0) == exact
    by_blanks: List[Dict[str, Any]] = []
    for b in sorted(int(x) for x in torch.unique(blanks)):
        rows = blanks == b
        c = int(rows.sum())
        by_blanks.append({"blanks": b, "count": c, "exactAccuracy": float(exact[rows].double().sum()) / c,
                          "tokenAccuracy": float(token[rows].sum()) / c})
    d = max(1, n)
    return {"puzzles": int(n), "exactAccuracy": float(exact.double().sum()) / d, "tokenAccuracy": float(token.sum()) / d,
            "qHaltAccuracy": float(q_ok.double().sum()) / d, "byBlanks": by_blanks}


def score_paths(labels: torch.Tensor, predictions: torch.Tensor, path_token: int) -> Dict[str, float]:
    """Mazes (trainer/train/evaluate.ts scorePaths): rows whose predicted path cells are exactly the
    true ones, and the mean IoU |pred & true| / |pred | true| (1 when both are empty)."""
    truth, pred = labels == path_token, predictions == path_token
    both, either = (truth & pred).sum(dim=1).double(), (truth | pred).sum(dim=1).double()
    iou = torch.where(either == 0, torch.ones_like(both), both / either.clamp(min=1))
    n = max(1, labels.shape[0])
    return {"exactAccuracy": float((both == either).double().sum()) / n, "iou": float(iou.sum()) / n}


@torch.no_grad()
def evaluate(start: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]], step: SupervisionStep,
             data: ExampleBatch, steps: int, batch_size: int, should_abort: Optional[Callable[[], bool]] = None,
             path_token: Optional[int] = None) -> Dict[str, Any]:
    """`start(tokens)` gives (z_h, z_l, x) at H_init/L_init; `step` is one supervision step at full depth.
    With `path_token` (mazes) the result also has "path": score_paths of the final answers."""
    N, L = data.tokens.shape
    predictions = torch.zeros((N, L), dtype=torch.int64)
    q_final = torch.zeros(N)
    exit_pred = torch.zeros((N, L), dtype=torch.int64)
    exit_q = torch.zeros(N)
    exit_step = torch.zeros(N, dtype=torch.int64)
    for lo in range(0, N, batch_size):
        if should_abort is not None and should_abort():
            raise EvaluationAborted()
        hi = min(N, lo + batch_size)
        z_h, z_l, x = start(data.tokens[lo:hi])
        for s in range(1, steps + 1):
            z_h, z_l, logits, q, *q_continue = step(z_h, z_l, x)
            pred = logits.argmax(dim=-1).cpu()
            q = q.float().cpu()
            halts = q > q_continue[0].float().cpu() if q_continue else q > 0
            # Rows that have not exited yet exit where the halting rule first fires, or at the last step.
            newly = (exit_step[lo:hi] == 0) & (halts | (s == steps))
            idx = torch.nonzero(newly).flatten()
            exit_step[lo + idx] = s
            exit_q[lo + idx] = q[idx]
            exit_pred[lo + idx] = pred[idx]
            if s == steps:
                predictions[lo:hi] = pred
                q_final[lo:hi] = q
    full = score_predictions(data.labels, data.blanks, predictions, q_final)
    early = score_predictions(data.labels, data.blanks, exit_pred, exit_q)
    full["earlyExit"] = {"meanSteps": float(exit_step.double().sum()) / max(1, N),
                         "exactAccuracy": early["exactAccuracy"], "qHaltAccuracy": early["qHaltAccuracy"]}
    if path_token is not None:
        full["path"] = score_paths(data.labels.cpu(), predictions, path_token)
    return full


def periodic_subset(blanks: torch.Tensor, per_blank: int) -> torch.Tensor:
    """Indices of the first `per_blank` puzzles of each blank count (the test set is grouped by blanks)."""
    seen: Dict[int, int] = {}
    keep: List[int] = []
    for i, b in enumerate(int(x) for x in blanks):
        n = seen.get(b, 0)
        seen[b] = n + 1
        if n < per_blank:
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


def internalisation_rows(full: Dict[str, Any], capped: List[Tuple[int, Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Each capped evaluation beside the full one on the same puzzles (trainer/train/evaluate.ts internalisationRows)."""
    return [{"iterations": k, "exactAccuracy": r["exactAccuracy"], "tokenAccuracy": r["tokenAccuracy"],
             "exactLost": full["exactAccuracy"] - r["exactAccuracy"], "tokenLost": full["tokenAccuracy"] - r["tokenAccuracy"]} for k, r in capped]


def evaluate_internalisation(model: Any, start: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]], step: SupervisionStep,
                             data: ExampleBatch, steps: int, batch_size: int, iterations: List[int], full: Dict[str, Any],
                             should_abort: Optional[Callable[[], bool]] = None) -> List[Dict[str, Any]]:
    """Equilibrium internalisation (eval.internalisation): the evaluation again with every solve of
    `model` (a TRM-DEQ, whose `capped_solver` the `step` function sees) capped at each of
    `iterations` map evaluations (0: no solve), beside `full`, the normal evaluation of `data`."""
    capped = []
    for k in iterations:
        with model.capped_solver(int(k)):
            capped.append((int(k), evaluate(start, step, data, steps, batch_size, should_abort)))
    return internalisation_rows(full, capped)
