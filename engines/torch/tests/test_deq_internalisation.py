"""Equilibrium internalisation (eval.internalisation) in the torch engine, as test/unit/
deq-internalisation.test.ts: cap 0 = a model built by hand without the solve (z_L stays L_init,
each cycle only z_H = net(z_H, z_L)); a cap >= maxIter = the normal evaluation; cap 2 = the same
weights configured with maxIter 2. Labels come from the hand model's answers, so the expected
accuracies are known in advance."""
import pytest
import torch

from reclab.evaluate import evaluate, evaluate_internalisation, internalisation_rows
from reclab.model.recursive_model import TaskShape, create_model
from reclab.train.act_carry import ExampleBatch

MODEL = dict(arch="trm-deq", mixer="mlp_t", hiddenSize=8, numHeads=2, expansion=2, ffnMultipleOf=4, layers=1,
             hCycles=2, lCycles=2, puzzleEmbLen=1, posEncodings="none", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5,
             deq=dict(solver="anderson", maxIter=6, minIter=2, tol=1e-9, phantomSteps=2))
TASK = TaskShape(6, 4)
ROWS, L, STEPS = 6, 4, 3


def model_with(seed=3, **deq):
    model = create_model({**MODEL, "deq": {**MODEL["deq"], **deq}}, TASK)
    model.reset_parameters_(torch.Generator().manual_seed(seed))
    return model


def functions(model):
    """start / step as the worker's model_functions (no autocast)."""
    depth = model.depth

    def start(tokens):
        return (*model.initial_states(tokens.shape[0]), model.input_embedding(tokens))

    def step(z_h, z_l, x):
        for _ in range(depth.h_cycles):
            z_h, z_l = model.cycle(z_h, z_l, x, depth.l_cycles)
        logits, q_halt, _ = model.heads(z_h)
        return z_h, z_l, logits, q_halt

    return start, step


@torch.no_grad()
def hand_predictions(model, tokens, passes=0):
    """`passes` plain map applications in place of each solve (0: without the solve; x never enters):
    per supervision step T cycles of [z_L = net(z_L, z_H + x)]^passes, z_H = net(z_H, z_L); the heads' argmax."""
    z_h, z_l = model.initial_states(tokens.shape[0])
    x = model.input_embedding(tokens)
    for _ in range(STEPS):
        for _ in range(MODEL["hCycles"]):
            for _ in range(passes):
                z_l = model.net(z_l, z_h + x)
            z_h = model.net(z_h, z_l)
    return model.heads(z_h)[0].argmax(dim=-1)


def predictions(start, step, tokens):
    z_h, z_l, x = start(tokens)
    for _ in range(STEPS):
        z_h, z_l, logits, _ = step(z_h, z_l, x)
    return logits.argmax(dim=-1)


def test_cap_zero_is_the_model_without_the_solve_and_a_large_cap_the_normal_evaluation():
    model = model_with()
    g = torch.Generator().manual_seed(4)
    tokens = torch.randint(1, 6, (ROWS, L), generator=g)
    hand = hand_predictions(model, tokens)
    labels = hand.clone()
    labels[3:, 0] = torch.where(labels[3:, 0] == 2, torch.tensor(3), torch.tensor(2))  # rows 3-5: one cell wrong
    data = ExampleBatch(tokens, labels, torch.ones(ROWS, dtype=torch.int64))
    start, step = functions(model)
    full = evaluate(start, step, data, STEPS, 4)
    rows = evaluate_internalisation(model, start, step, data, STEPS, 4, [0, 2, 6, 100], full)
    assert [r["iterations"] for r in rows] == [0, 2, 6, 100]
    assert rows[0]["exactAccuracy"] == 0.5
    assert rows[0]["tokenAccuracy"] == pytest.approx((3 + 3 * 0.75) / 6, abs=1e-12)
    assert rows[0]["exactLost"] == full["exactAccuracy"] - 0.5
    assert full["exactAccuracy"] != 0.5 or full["tokenAccuracy"] != rows[0]["tokenAccuracy"], "the solve changes the answers here"
    for r in rows[2:]:
        assert (r["exactAccuracy"], r["tokenAccuracy"], r["exactLost"], r["tokenLost"]) == (full["exactAccuracy"], full["tokenAccuracy"], 0.0, 0.0)
    # cap 0 / cap 1: exactly the hand model's answers without the solve / with one plain pass
    with torch.no_grad():
        with model.capped_solver(0):
            assert torch.equal(predictions(start, step, tokens), hand)
        with model.capped_solver(1):
            assert torch.equal(predictions(start, step, tokens), hand_predictions(model, tokens, 1))
    # cap 2 = the same weights with maxIter 2
    two = model_with(maxIter=2)
    two.load_state_dict(model.state_dict())
    s2, st2 = functions(two)
    via_config = evaluate(s2, st2, data, STEPS, 4)
    assert rows[1]["exactAccuracy"] == via_config["exactAccuracy"] and rows[1]["tokenAccuracy"] == via_config["tokenAccuracy"]
    # the cap is lifted afterwards
    again = evaluate(start, step, data, STEPS, 4)
    assert (again["exactAccuracy"], again["tokenAccuracy"]) == (full["exactAccuracy"], full["tokenAccuracy"])
    assert model.solving.cap is None
    with pytest.raises(ValueError, match="eval.internalisation.iterations"):
        with model.capped_solver(-1):
            pass


def test_cap_zero_latent_is_the_initial_state_and_the_rows_are_differences():
    model = model_with()
    z_h, z_l = model.initial_states(2)
    x = torch.randn(2, model.total_len, model.width)
    with model.capped_solver(0):
        got = model.solve_latent(z_h, z_l, x)
    assert torch.equal(got, z_l.float())
    assert model.solving.stats.take() == {}, "no solve, no statistics"
    rows = internalisation_rows({"exactAccuracy": 0.9, "tokenAccuracy": 0.95}, [(1, {"exactAccuracy": 0.6, "tokenAccuracy": 0.8})])
    assert rows == [{"iterations": 1, "exactAccuracy": 0.6, "tokenAccuracy": 0.8, "exactLost": 0.9 - 0.6, "tokenLost": 0.95 - 0.8}]
