"""Scoring (exact / token / q-halt accuracy per blank count, early exit) and the refinement encoding,
against hand-computed values and protocol/refinement.ts's layout."""
import base64

import numpy as np
import torch

from reclab.data import encode_puzzles
from reclab.evaluate import evaluate, periodic_subset, score_predictions
from reclab.refinement import encode_trajectory, frame_of_logits, probe_indices, stablemax_probabilities


def test_scores_by_hand():
    labels = torch.tensor([[2, 3], [3, 2], [2, 2], [4, 5]])
    blanks = torch.tensor([1, 1, 2, 2], dtype=torch.int32)
    pred = torch.tensor([[2, 3], [3, 3], [2, 2], [0, 0]])  # exact, half, exact, none
    q = torch.tensor([1.0, 0.5, -1.0, -2.0])  # says right: yes, yes (wrong), no (wrong), no
    r = score_predictions(labels, blanks, pred, q)
    assert r["puzzles"] == 4 and r["exactAccuracy"] == 0.5 and r["tokenAccuracy"] == (1 + 0.5 + 1 + 0) / 4
    assert r["qHaltAccuracy"] == 0.5
    assert r["byBlanks"] == [{"blanks": 1, "count": 2, "exactAccuracy": 0.5, "tokenAccuracy": 0.75},
                             {"blanks": 2, "count": 2, "exactAccuracy": 0.5, "tokenAccuracy": 0.5}]


def test_evaluation_runs_all_steps_and_early_exit_stops_at_the_first_positive_q_halt():
    # A scripted recurrence: the state counts steps; row r's answer becomes right at step r + 1 and
    # its q_halt turns positive at step 2 for every row. Full eval scores step 3, early exit step 2.
    data = encode_puzzles(np.array([[0, 1], [0, 0], [1, 0]], np.uint8), np.array([[1, 1], [2, 2], [1, 2]], np.uint8), np.array([1, 2, 1], np.int32))
    V = 4

    def start(tokens):  # the state carries each row's index in the data (found from its tokens)
        row = torch.tensor([next(i for i in range(3) if torch.equal(data.tokens[i], t)) for t in tokens], dtype=torch.float32)
        return torch.zeros(tokens.shape[0]), row, tokens

    def step(z_h, row, x):
        z_h = z_h + 1
        right = (z_h >= row + 1)[:, None]
        logits = torch.full((x.shape[0], 2, V), -1.0)
        truth = torch.nn.functional.one_hot(data.labels[row.long()], V).bool()
        wrong = torch.nn.functional.one_hot((data.labels[row.long()] + 1) % V, V).bool()
        logits[truth & right[..., None]] = 1.0
        logits[wrong & ~right[..., None]] = 1.0
        return z_h, row, logits, z_h - 1.5
    r = evaluate(start, step, data, steps=3, batch_size=2)
    assert r["exactAccuracy"] == 1.0  # every row right by step 3
    assert r["earlyExit"]["meanSteps"] == 2.0  # q_halt = step - 1.5 > 0 first at step 2
    assert abs(r["earlyExit"]["exactAccuracy"] - 2 / 3) < 1e-12  # rows 0 and 1 are right at step 2, row 2 not yet
    assert [b["blanks"] for b in r["byBlanks"]] == [1, 2]


def test_early_exit_uses_q_halt_over_q_continue_when_the_step_returns_q_continue():
    # HRM's rule: exit at the first q_halt > q_continue. q_halt = step − 1.5 (> 0 from step 2, TRM's
    # exit) and q_continue = 1: q_halt > 1 first at step 3 (of N_sup = 4).
    data = encode_puzzles(np.array([[0, 1]], np.uint8), np.array([[1, 2]], np.uint8), np.array([1], np.int32))

    def start(tokens):
        return torch.zeros(tokens.shape[0]), torch.zeros(tokens.shape[0]), tokens

    def step(z_h, z_l, x, with_continue):
        z_h = z_h + 1
        logits = torch.nn.functional.one_hot(data.labels, 4).float().expand(x.shape[0], -1, -1)
        q_halt = z_h - 1.5
        return (z_h, z_l, logits, q_halt, torch.ones_like(q_halt)) if with_continue else (z_h, z_l, logits, q_halt)
    trm = evaluate(start, lambda *a: step(*a, False), data, steps=4, batch_size=1)
    hrm = evaluate(start, lambda *a: step(*a, True), data, steps=4, batch_size=1)
    assert trm["earlyExit"]["meanSteps"] == 2.0 and hrm["earlyExit"]["meanSteps"] == 3.0  # 3 − 1.5 = 1.5 > 1


def test_periodic_subset_takes_the_first_of_each_blank_count():
    assert periodic_subset(torch.tensor([3, 3, 3, 5, 5, 7]), 2).tolist() == [0, 1, 3, 4, 5]


def test_probe_puzzles_spread_over_blank_counts_as_the_ts_engine():
    # probePuzzles: sorted by blanks (stable), n picks at round(i * (N - 1) / (n - 1)).
    blanks = [9, 3, 5, 3, 7, 5]
    order = [1, 3, 2, 5, 4, 0]  # stable sort by blanks
    assert probe_indices(blanks, 3) == [order[0], order[3], order[5]]  # JS Math.round(2.5) = 3
    assert probe_indices(blanks, 3) == [1, 5, 0]
    assert probe_indices(blanks, 1) == [1]
    assert probe_indices([], 4) == []


def test_stablemax_probabilities_by_hand():
    # s(2) = 3, s(0) = 1, s(-1) = 1/2: normalised 3/4.5, 1/4.5, 0.5/4.5
    p = stablemax_probabilities(torch.tensor([[2.0, 0.0, -1.0]]))
    assert torch.allclose(p, torch.tensor([[3 / 4.5, 1 / 4.5, 0.5 / 4.5]]))


def test_frame_digits_and_confidence():
    # Tokens: 0 PAD, 1 blank, 2.. digits 1..; a non-digit argmax shows as 0. Softmax of [0, 0, ln 3] = 0.6 for token 2.
    logits = torch.tensor([[[0.0, 0.0, float(np.log(3))], [5.0, 0.0, 0.0]]])
    digits, conf = frame_of_logits(logits, side=4, loss_type="softmax")
    assert digits.tolist() == [[1, 0]]
    assert conf[0, 0] == round(0.6 * 255) and conf[0, 1] == round(255 * np.exp(5) / (np.exp(5) + 2))


def test_trajectory_encoding_is_protocol_refinement_layout():
    q = np.array([[0, 1, 2, 3] * 4], np.uint8)
    sol = np.array([[4, 1, 2, 3] * 4], np.uint8)
    digits = np.arange(2 * 16, dtype=np.uint8).reshape(1, 2, 16) % 5
    conf = np.full((1, 2, 16), 200, np.uint8)
    qh = np.array([[-1.5, 2.25]], np.float32)
    t = encode_trajectory(4, q, sol, steps=1, cycles_per_step=2, digits=digits, confidence=conf, q_halt=qh)
    assert t["puzzles"] == [{"question": ".123" * 4, "solution": "4123" * 4, "blanks": 4}]
    assert base64.b64decode(t["digits"]) == digits.tobytes() and base64.b64decode(t["confidence"]) == bytes([200] * 32)
    assert np.frombuffer(base64.b64decode(t["qHalt"]), "<f4").tolist() == [-1.5, 2.25]
    assert (t["side"], t["steps"], t["cyclesPerStep"]) == (4, 1, 2)


def test_maze_frame_cells_are_the_predicted_tokens():
    # Maze tokens: 0 PAD, 1 wall, 2 open, 3 S, 4 G, 5 path; the cell records the token (PAD -> 0).
    logits = torch.full((1, 3, 6), -3.0)
    logits[0, 0, 5] = 4.0  # path
    logits[0, 1, 1] = 4.0  # wall
    logits[0, 2, 0] = 4.0  # PAD
    cells, _ = frame_of_logits(logits, side=0, loss_type="softmax", task="maze")
    assert cells.tolist() == [[5, 1, 0]]


def test_maze_trajectory_layout():
    # A 2x2 maze "S#" / "oG": the questions and solutions in "# SGo", the path length as blanks, a task field first.
    q = np.array([[3, 1, 2, 4]], np.uint8)
    sol = np.array([[3, 1, 5, 4]], np.uint8)
    digits = np.array([[[3, 1, 5, 4]]], np.uint8)
    t = encode_trajectory(2, q, sol, steps=1, cycles_per_step=1, digits=digits, confidence=np.zeros((1, 1, 4), np.uint8),
                          q_halt=np.zeros((1, 1), np.float32), task="maze", blanks=[2])
    assert list(t.keys()) == ["task", "side", "puzzles", "steps", "cyclesPerStep", "digits", "confidence", "qHalt"]
    assert t["task"] == "maze" and t["side"] == 2
    assert t["puzzles"] == [{"question": "S# G", "solution": "S#oG", "blanks": 2}]
    assert base64.b64decode(t["digits"]) == bytes([3, 1, 5, 4])
