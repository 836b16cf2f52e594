"""A researcher's own TRM loop, written plainly in PyTorch (not the reclab engine), logging to a run
directory the Recursion Lab extension opens live (Live Training and Refinement views):

    PYTHONPATH=engines/torch python engines/torch/examples/minimal_trm_loop.py --steps 300 --runs-root runs

Only the lines marked `# reclab` are the logging API; the rest is an ordinary training loop: 4x4
Sudoku made from the pattern grid and its symmetries, a tiny TRM (MLP-mixer, y/z recursion, deep
supervision with the carried state detached between supervision steps), softmax cross-entropy, AdamW.
"""
from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

from reclab import Run  # reclab

SIDE, BOX, CELLS = 4, 2, 16
VOCAB = SIDE + 2  # PAD 0, blank 1, digit d -> d + 1 (the reclab token encoding, so the views decode it)


def random_sudoku(g: torch.Generator) -> torch.Tensor:
    """A valid 4x4 solution: the pattern grid with rows/columns shuffled inside bands and digits relabelled."""
    base = torch.tensor([[(BOX * (r % BOX) + r // BOX + c) % SIDE for c in range(SIDE)] for r in range(SIDE)])
    perm = lambda: torch.cat([b * BOX + torch.randperm(BOX, generator=g) for b in torch.randperm(BOX, generator=g)])  # noqa: E731
    digits = torch.randperm(SIDE, generator=g) + 1
    return digits[base[perm()][:, perm()]].flatten()


def batch(size: int, g: torch.Generator):
    answers = torch.stack([random_sudoku(g) for _ in range(size)])
    blanks = torch.randint(4, 11, (size,), generator=g)
    mask = torch.rand(size, CELLS, generator=g).argsort(1) < blanks[:, None]
    questions = answers.masked_fill(mask, 0)
    return questions, answers


class MixerBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.tokens = nn.Sequential(nn.Linear(CELLS, 4 * CELLS), nn.SiLU(), nn.Linear(4 * CELLS, CELLS))
        self.channels = nn.Sequential(nn.Linear(width, 4 * width), nn.SiLU(), nn.Linear(4 * width, width))
        self.n1, self.n2 = nn.LayerNorm(width), nn.LayerNorm(width)

    def forward(self, x):
        x = self.n1(x + self.tokens(x.transpose(1, 2)).transpose(1, 2))
        return self.n2(x + self.channels(x))


class TinyTRM(nn.Module):
    def __init__(self, width: int = 32, T: int = 2, n: int = 2):
        super().__init__()
        self.T, self.n = T, n
        self.embed = nn.Embedding(VOCAB, width)
        self.net = nn.Sequential(MixerBlock(width), MixerBlock(width))
        self.out = nn.Linear(width, VOCAB)
        self.q = nn.Linear(width, 1)
        self.y0 = nn.Parameter(torch.zeros(width))
        self.z0 = nn.Parameter(torch.zeros(width))

    def cycle(self, x, y, z):
        for _ in range(self.n):
            z = self.net(x + y + z)
        return self.net(y + z), z

    def forward(self, tokens, y, z):
        x = self.embed(tokens)
        with torch.no_grad():
            for _ in range(self.T - 1):
                y, z = self.cycle(x, y, z)
        y, z = self.cycle(x, y, z)
        return y, z, self.out(y), self.q(y.mean(1)).squeeze(-1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--runs-root", default="runs")
    ap.add_argument("--n-sup", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = TinyTRM()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    config = {"model": {"hiddenSize": 32, "hCycles": model.T, "lCycles": model.n},  # reclab: what the views show
              "train": {"steps": args.steps, "batchSize": 64, "haltMaxSteps": args.n_sup, "lossType": "softmax", "lr": 2e-3},
              "data": {"kind": "generated-sudoku", "side": SIDE}, "refinement": {"everySteps": 50}}
    run = Run(runs_root=args.runs_root, name="minimal-trm-loop", config=config, total_steps=args.steps)  # reclab
    probe_q, probe_a = batch(2, g)
    for step in range(1, args.steps + 1):
        q, a = batch(64, g)
        tokens, labels = q + 1, a + 1
        y, z = model.y0.expand(64, CELLS, -1), model.z0.expand(64, CELLS, -1)
        total = 0.0
        for _ in range(args.n_sup):  # deep supervision: one optimizer step per supervision step
            y, z, logits, q_halt = model(tokens, y, z)
            correct = (logits.argmax(-1) == labels).all(1).float()
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1)) + 0.5 * F.binary_cross_entropy_with_logits(q_halt, correct)
            opt.zero_grad()
            loss.backward()
            grad_norm = math.sqrt(sum(float(p.grad.square().sum()) for p in model.parameters() if p.grad is not None))
            opt.step()
            y, z = y.detach(), z.detach()
            total += float(loss)
        run.log_step(step, loss=total / args.n_sup, lr=2e-3, grad_norm=grad_norm, exact_accuracy=float(correct.mean()), batch_size=64)  # reclab
        if step % 50 == 0 or step == args.steps:
            with torch.no_grad():
                tq, ta = batch(256, g)
                y, z = model.y0.expand(256, CELLS, -1), model.z0.expand(256, CELLS, -1)
                for _ in range(args.n_sup):
                    y, z, logits, _ = model(tq + 1, y, z)
                right = logits.argmax(-1) == ta + 1
                blanks = (tq == 0).sum(1)
                by = [{"blanks": int(b), "count": int((blanks == b).sum()), "exactAccuracy": float(right.all(1)[blanks == b].float().mean()),
                       "tokenAccuracy": float(right[blanks == b].float().mean())} for b in torch.unique(blanks)]
                run.log_eval(step, exact_accuracy=float(right.all(1).float().mean()), token_accuracy=float(right.float().mean()),  # reclab
                             by_blanks=by, final=step == args.steps)
                # A refinement snapshot: the probe puzzles' answer after every supervision step.
                y, z = model.y0.expand(2, CELLS, -1), model.z0.expand(2, CELLS, -1)
                digits, conf, qs = [], [], []
                for _ in range(args.n_sup):
                    y, z, logits, q_halt = model(probe_q + 1, y, z)
                    p, tok = logits.softmax(-1).max(-1)
                    digits.append(torch.where((tok >= 2) & (tok < 2 + SIDE), tok - 1, torch.zeros_like(tok)))
                    conf.append(p)
                    qs.append(q_halt)
                run.snapshot(step, probe_q, torch.stack(digits, 1), torch.stack(conf, 1), torch.stack(qs, 1), solutions=probe_a)  # reclab
            run.checkpoint(step, {f"param/{k}": v for k, v in model.state_dict().items()})  # reclab
    run.finish()  # reclab
    print(run.path)


if __name__ == "__main__":
    main()
