"""The task-data reader and the example stream (trainer/train/exampleStream.ts semantics)."""
import json

import numpy as np
import pytest

from reclab.data import ExampleStream, apply_transform, load_task_data, random_transform
from reclab.errors import BadInput
from reclab.weights import write_weights
from task_data_files import is_valid_solution, valid_grid, write_task_data


def test_reads_the_file_node_writes(tmp_path):
    d = load_task_data(str(write_task_data(tmp_path / "t.safetensors", side=4, train=10, test_blanks=(3, 5), test_per_blank=2)))
    assert (d.side, d.vocab_size, d.seq_len, d.groups) == (4, 6, 16, 10)
    assert d.test_questions.shape == (4, 16) and list(d.test_blanks) == [3, 3, 5, 5]
    assert d.augment_on_the_fly


def test_bad_files_are_refused_naming_file_and_tensor(tmp_path):
    good = load_task_data(str(write_task_data(tmp_path / "g.safetensors")))
    base = {"train/questions": good.train_questions, "train/solutions": good.train_solutions,
            "train/group_offsets": good.group_offsets.astype(np.int32), "test/questions": good.test_questions,
            "test/solutions": good.test_solutions, "test/blanks": good.test_blanks.astype(np.int32)}
    meta = {"kind": "reclab-task-data", "side": 4, "vocabSize": 6, "seqLen": 16, "augmentOnTheFly": True}
    cases = [
        ({k: v for k, v in base.items() if k != "test/blanks"}, meta, "test/blanks is missing"),
        ({**base, "train/questions": good.train_questions.astype(np.int32)}, meta, "train/questions must be uint8"),
        ({**base, "train/group_offsets": np.array([0, 5, 5, 64], dtype=np.int32)}, meta, "group_offsets"),
        ({**base, "test/blanks": good.test_blanks.astype(np.int32) + 1}, meta, "test/blanks does not match"),
        (base, {**meta, "side": 9}, "seqLen must be 81"),
        (base, {**meta, "kind": "something"}, "not a task-data file"),
    ]
    for i, (tensors, m, why) in enumerate(cases):
        p = tmp_path / f"bad{i}.safetensors"
        write_weights(str(p), tensors, kind="reclab-weights", meta=m)
        with pytest.raises(BadInput) as e:
            load_task_data(str(p))
        assert str(p) in str(e.value) and why in str(e.value), (why, str(e.value))
    # A corrupted byte: the checksum refuses it before anything is used.
    p = tmp_path / "g.safetensors"
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 0x01
    p.write_bytes(bytes(raw))
    with pytest.raises(BadInput, match="g.safetensors"):
        load_task_data(str(p))



def _maze_file_parts():
    """Two hand-made 3x3 mazes as Node writes them: cells are tokens (wall 1, open 2, S 3, G 4, path 5)."""
    q = np.array([[3, 2, 2, 1, 1, 2, 4, 2, 2], [3, 1, 4, 2, 1, 2, 2, 2, 2]], dtype=np.uint8)
    a = np.array([[3, 5, 5, 1, 1, 5, 4, 5, 5], [3, 1, 4, 5, 1, 5, 5, 5, 5]], dtype=np.uint8)
    tensors = {"train/questions": q, "train/solutions": a, "train/group_offsets": np.array([0, 1, 2], dtype=np.int32),
               "test/questions": q, "test/solutions": a, "test/blanks": np.array([6, 6], dtype=np.int32)}
    meta = {"kind": "reclab-task-data", "task": "maze", "height": 3, "width": 3, "vocabSize": 6, "seqLen": 9, "augmentOnTheFly": False}
    return tensors, meta


def test_maze_task_data_keeps_its_cells_as_tokens_and_bad_maze_files_are_refused(tmp_path):
    tensors, meta = _maze_file_parts()
    p = tmp_path / "maze.safetensors"
    write_weights(str(p), tensors, kind="reclab-weights", meta=meta)
    d = load_task_data(str(p))
    assert (d.task, d.side, d.vocab_size, d.seq_len, d.token_offset) == ("maze", 0, 6, 9, 0)
    batch = ExampleStream(d, seed=1).next(2)
    assert sorted(batch.tokens.tolist()) == sorted(tensors["train/questions"].tolist())
    assert sorted(batch.labels.tolist()) == sorted(tensors["train/solutions"].tolist())
    assert batch.blanks.tolist() == [6, 6]  # path length: 5 'o' cells + 1 move
    cases = [
        (dict(tensors, **{"test/blanks": np.array([6, 7], dtype=np.int32)}), meta, "test/blanks does not match the path lengths"),
        (dict(tensors, **{"train/questions": np.where(tensors["train/questions"] == 2, 5, tensors["train/questions"]).astype(np.uint8)}), meta, "outside 1..4"),
        (tensors, {**meta, "seqLen": 16}, "seqLen must be 9"),
        (tensors, {**meta, "augmentOnTheFly": True}, "augmentOnTheFly must be false"),
        (tensors, {**meta, "task": "chess"}, 'task must be "sudoku" or "maze"'),
    ]
    for i, (t, m, why) in enumerate(cases):
        bad = tmp_path / f"badmaze{i}.safetensors"
        write_weights(str(bad), t, kind="reclab-weights", meta=m)
        with pytest.raises(BadInput) as e:
            load_task_data(str(bad))
        assert str(bad) in str(e.value) and why in str(e.value), (why, str(e.value))

def test_transform_by_hand():
    # 4x4: transpose, then row order [1,0,3,2], column order [2,3,0,1], digits 1->2 2->1 3->4 4->3.
    grid = np.arange(16, dtype=np.uint8) % 4 + 1  # rows 1 2 3 4
    t = {"digit_map": np.array([0, 2, 1, 4, 3], dtype=np.uint8), "transpose": True,
         "row_perm": np.array([1, 0, 3, 2]), "col_perm": np.array([2, 3, 0, 1])}
    out = apply_transform(grid, t, 4).reshape(4, 4)
    g = grid.reshape(4, 4)
    for i in range(4):
        for j in range(4):
            r, c = t["row_perm"][i], t["col_perm"][j]
            assert out[i, j] == t["digit_map"][g[c, r]]  # (r, c) of the transposed grid is (c, r)
    # By hand: transposed cell (r, c) holds r + 1; result row i holds digit_map[row_perm[i] + 1] = 1, 2, 3, 4.
    assert out.tolist() == [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3], [4, 4, 4, 4]]


@pytest.mark.parametrize("side", [4, 9])
def test_augmentation_keeps_sudoku_validity_and_givens(side):
    rng = np.random.default_rng(1)
    for _ in range(50):
        a = valid_grid(side, rng)
        q = a.copy()
        q[rng.choice(side * side, side, replace=False)] = 0
        t = random_transform(side, rng)
        qa, aa = apply_transform(q, t, side), apply_transform(a, t, side)
        assert is_valid_solution(aa, side)
        assert ((qa == 0) == (apply_transform((q == 0).astype(np.uint8), {**t, "digit_map": np.array([0, 1] + [1] * (side - 1), dtype=np.uint8)}, side) == 1)).all()
        assert np.all((qa == 0) | (qa == aa)) and (qa == 0).sum() == side
        box = int(np.sqrt(side))
        # Rows stay inside bands: row i of the result comes from band row_perm[i] // box, and bands move whole.
        bands = t["row_perm"].reshape(box, box) // box
        assert all(len(set(b)) == 1 for b in bands)


def test_one_example_per_group_per_epoch_and_exact_resume(tmp_path):
    d = load_task_data(str(write_task_data(tmp_path / "t.safetensors", side=4, train=24, groups_of=3, augment=False)))
    assert d.groups == 8
    s = ExampleStream(d, seed=5)
    for _epoch in range(3):
        b = s.next(8)
        # Each row is one of its group's rows, and every group appears exactly once.
        groups = []
        for r in range(8):
            row = [i for i in range(24) if (d.train_questions[i].astype(np.int64) + 1 == b.tokens[r].numpy()).all()]
            groups.append(row[0] // 3)
        assert sorted(groups) == list(range(8))
    # Resume from a JSON round trip of the state draws exactly what the uninterrupted stream draws.
    s.next(5)
    saved = json.loads(json.dumps(s.state()))
    want = [s.next(7) for _ in range(4)]
    r = ExampleStream(d, state=saved)
    got = [r.next(7) for _ in range(4)]
    for w, g in zip(want, got):
        assert (w.tokens == g.tokens).all() and (w.labels == g.labels).all() and (w.blanks == g.blanks).all()


def test_augmented_stream_rows_are_valid_encoded_puzzles(tmp_path):
    d = load_task_data(str(write_task_data(tmp_path / "t.safetensors", side=9, train=16)))
    b = ExampleStream(d, seed=0).next(32)
    for r in range(32):
        q, a = b.tokens[r].numpy() - 1, b.labels[r].numpy() - 1  # tokens: blank 1, digit d -> d + 1
        assert is_valid_solution(a, 9) and np.all((q == 0) | (q == a)) and int(b.blanks[r]) == int((q == 0).sum())


def test_path_scores_by_hand():
    """Row 0: true path {1, 2}, predicted {1, 2} (exact, IoU 1); row 1: true {0, 1, 2}, predicted {1, 2, 3} (IoU 2/4)."""
    import torch
    from reclab.evaluate import score_paths

    labels = torch.tensor([[3, 5, 5, 4], [5, 5, 5, 4]])
    predictions = torch.tensor([[3, 5, 5, 4], [2, 5, 5, 5]])
    assert score_paths(labels, predictions, 5) == {"exactAccuracy": 0.5, "iou": 0.75}
