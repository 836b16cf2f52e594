"""Training-step micro-benchmark of the torch engine (for bench/ and the README table).

    python -m reclab.bench_step [--json] [--rounds 3] [--threads N] [--batch 64]
                                [--skip-curriculum] [--device cpu|cuda]

Times, interleaved in one process (so a shared machine's load falls on each alike), median of
`--rounds`:
  - `engine`: reclab.train.train_step on the 9x9 TRM (B=64, D=128, 2 layers, 4 heads, attention +
    RoPE, T=3, n=6, AdamW): carry reset, micro-batch loop, ACT loss, optimizer, EMA, halting, metrics;
  - `plain`: a plain PyTorch loop doing the same step, written here independently of reclab (raw
    weight tensors, the same recursion and losses, torch.optim.AdamW, one .item());
  - `curriculum`: the engine at the paper's stage depths (1,2), (2,4), (3,6), and the PDC
    wall-clock speedup at equal steps t(3,6) / (0.3·t(1,2) + 0.3·t(2,4) + 0.4·t(3,6)) beside the
    FLOPs ratio of the same schedule (as bench/curriculum-step.bench.ts).
GFLOP/s are analytic matmul FLOPs (reclab.train.flops, equal to trainer/model/flops.ts) per second.
"""
from __future__ import annotations

import os

# As the worker (reclab/worker.py), before torch's OpenMP runtime loads: waiting threads sleep
# instead of spinning, which on a shared CPU is the difference between 2.4 s and 30 s a step.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402 (after the environment above)
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Callable, Dict, List  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from .model.trm import Depth, TaskShape  # noqa: E402
from .train.act_carry import ExampleBatch  # noqa: E402
from .train.flops import supervision_step_flops  # noqa: E402
from .train.train_state import build_model, create_train_state  # noqa: E402
from .train.train_step import train_step  # noqa: E402

SEQ, VOCAB = 81, 11
STAGES = [Depth(1, 2), Depth(2, 4), Depth(3, 6)]
SHARES = [0.3, 0.3, 0.4]


def bench_config(mixer: str, batch: int) -> tuple[dict, dict]:
    model = dict(arch="trm", mixer=mixer, hiddenSize=128, numHeads=4, expansion=4, ffnMultipleOf=256, layers=2,
                 hCycles=3, lCycles=6, puzzleEmbLen=0, posEncodings="rope" if mixer == "attention" else "none",
                 ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5)
    train = dict(steps=1000, batchSize=batch, microBatchSize=batch, haltMaxSteps=16, haltExplorationProb=0.1,
                 optimizer="adamw", lr=1e-4, lrWarmupSteps=0, lrMinRatio=1, beta1=0.9, beta2=0.95, weightDecay=1.0,
                 adamEpsilon=1e-8, puzzleEmbLr=1e-4, puzzleEmbWeightDecay=1.0, lossType="stablemax", qLossWeight=0.5,
                 ema=dict(enabled=True, rate=0.999, warmup=True), curriculum=dict(enabled=False, boundaries=[]),
                 hsw=dict(mode="off", decay=0.7))
    return model, train


def random_batch(batch: int, gen: torch.Generator, device) -> ExampleBatch:
    labels = torch.randint(2, VOCAB, (batch, SEQ), generator=gen)
    tokens = torch.where(torch.rand(batch, SEQ, generator=gen) < 0.5, torch.ones_like(labels), labels)
    return ExampleBatch(tokens.to(device), labels.to(device), (tokens == 1).sum(1).int().to(device))


class PlainLoop:
    """The same TRM training step in plain PyTorch: no reclab module, raw weights."""

    def __init__(self, mcfg: dict, batch: int, device, gen: torch.Generator):
        D, H = mcfg["hiddenSize"], mcfg["numHeads"]
        self.D, self.H, self.hd, self.eps, self.layers = D, H, D // H, mcfg["rmsNormEps"], mcfg["layers"]
        hidden = 512  # roundUp(round(4·128·2/3), 256)
        w = lambda i, o: (torch.randn(o, i, generator=gen) / math.sqrt(i)).to(device).requires_grad_()  # noqa: E731
        self.blocks = [dict(qkv=w(D, 3 * D), o=w(D, D), gu=w(D, 2 * hidden), down=w(hidden, D)) for _ in range(self.layers)]
        self.emb = (torch.randn(VOCAB, D, generator=gen) / math.sqrt(D)).to(device).requires_grad_()
        self.lm = w(D, VOCAB)
        self.qw = torch.zeros(2, D, device=device, requires_grad=True)
        self.qb = torch.full((2,), -5.0, device=device, requires_grad=True)
        params = [self.emb, self.lm, self.qw, self.qb] + [t for b in self.blocks for t in b.values()]
        self.opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=1.0)
        inv = 1.0 / 10000 ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd)
        ang = torch.outer(torch.arange(SEQ, dtype=torch.float32), inv)
        ang = torch.cat([ang, ang], -1)
        self.cos, self.sin = ang.cos().to(device), ang.sin().to(device)
        self.zH = torch.randn(batch, SEQ, D, generator=gen).to(device)
        self.zL = torch.randn(batch, SEQ, D, generator=gen).to(device)

    def norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def rope(self, x):
        x1, x2 = x.chunk(2, -1)
        return x * self.cos + torch.cat([-x2, x1], -1) * self.sin

    def net(self, h, inj):
        x = h + inj
        B, L, D = x.shape
        for b in self.blocks:
            q, k, v = F.linear(x, b["qkv"]).view(B, L, 3, self.H, self.hd).permute(2, 0, 3, 1, 4)
            att = torch.softmax(self.rope(q) @ self.rope(k).transpose(-1, -2) / math.sqrt(self.hd), -1) @ v
            x = self.norm(x + F.linear(att.transpose(1, 2).reshape(B, L, D), b["o"]))
            g, u = F.linear(x, b["gu"]).chunk(2, -1)
            x = self.norm(x + F.linear(F.silu(g) * u, b["down"]))
        return x

    def step(self, batch: ExampleBatch, depth: Depth) -> float:
        zH, zL = self.zH, self.zL
        with torch.no_grad():
            x = F.embedding(batch.tokens, self.emb) * math.sqrt(self.D)
            for _ in range(depth.h_cycles - 1):
                for _ in range(depth.l_cycles):
                    zL = self.net(zL, zH + x)
                zH = self.net(zH, zL)
        x = F.embedding(batch.tokens, self.emb) * math.sqrt(self.D)
        for _ in range(depth.l_cycles):
            zL = self.net(zL, zH + x)
        zH = self.net(zH, zL)
        logits = F.linear(zH, self.lm)
        s = torch.where(logits >= 0, logits + 1, 1 / (1 - logits.clamp(max=0)))
        ce = -(s.gather(-1, batch.labels.unsqueeze(-1)).squeeze(-1).log() - s.sum(-1).log())
        correct = (logits.argmax(-1) == batch.labels).all(1).float()
        q = F.linear(zH[:, 0], self.qw, self.qb)[:, 0]
        loss = (ce.mean(1).sum() + 0.5 * F.binary_cross_entropy_with_logits(q, correct, reduction="sum")) / zH.shape[0]
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.zH, self.zL = zH.detach(), zL.detach()
        return loss.item()


def timed(fn: Callable[[], object], device) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process's threads). On a shared CPU the wall time
    swings with other jobs; the CPU time (threads sleep while they wait, OMP_WAIT_POLICY=PASSIVE)
    counts the work this step did."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, time.process_time() - c0


def run(args) -> Dict[str, object]:
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    gen = torch.Generator().manual_seed(0)
    mcfg, tcfg = bench_config("attention", args.batch)
    model = build_model(mcfg, TaskShape(VOCAB, SEQ), 1, device)
    state = create_train_state(model, tcfg)
    halt_rng = np.random.default_rng(0)
    plain = PlainLoop(mcfg, args.batch, device, gen)
    full = Depth(3, 6)
    engine_step = lambda d: train_step(state, random_batch(args.batch, gen, device), tcfg, d, tcfg["lr"], halt_rng)  # noqa: E731
    plain_step = lambda d: plain.step(random_batch(args.batch, gen, device), d)  # noqa: E731

    stages = [] if args.skip_curriculum else STAGES[:2]
    for d in stages + [full]:
        engine_step(d)  # warm-up (allocator, first-call costs)
    plain_step(full)
    times: Dict[str, List[tuple[float, float]]] = {"engine": [], "plain": [], **{f"{d.h_cycles},{d.l_cycles}": [] for d in stages}}
    for _ in range(args.rounds):
        times["engine"].append(timed(lambda: engine_step(full), device))
        times["plain"].append(timed(lambda: plain_step(full), device))
        for d in stages:
            times[f"{d.h_cycles},{d.l_cycles}"].append(timed(lambda: engine_step(d), device))

    def flop(d: Depth) -> int:
        f = supervision_step_flops(model, d, args.batch, True)
        return f.forward + f.backward

    load_after = os.getloadavg()[0]
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    out: Dict[str, object] = {
        "config": {"mixer": "attention", "batch": args.batch, "hiddenSize": 128, "layers": 2, "heads": 4, "depth": [3, 6],
                   "optimizer": "adamw", "rounds": args.rounds},
        "torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(),
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"), "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY"),
        # Other jobs on a shared machine slow every side alike (interleaved); the ratios hold, the s/step do not.
        "loadAverage": {"before": load_before, "after": load_after},
        "gflopPerStep": flop(full) / 1e9,
        "engine": {"secondsPerStep": med["engine"], "gflops": flop(full) / 1e9 / med["engine"], "cpuSecondsPerStep": cpu["engine"],
                   "samples": times["engine"]},
        "plain": {"secondsPerStep": med["plain"], "gflops": flop(full) / 1e9 / med["plain"], "cpuSecondsPerStep": cpu["plain"],
                  "samples": times["plain"]},
        "engineOverPlain": med["engine"] / med["plain"],
        "engineOverPlainCpu": cpu["engine"] / cpu["plain"],
    }
    if stages:
        per = [med["1,2"], med["2,4"], med["engine"]]
        per_cpu = [cpu["1,2"], cpu["2,4"], cpu["engine"]]
        flops = [flop(d) for d in STAGES]
        out["curriculum"] = {
            "stages": [{"depth": [d.h_cycles, d.l_cycles], "secondsPerStep": t, "cpuSecondsPerStep": c, "gflopPerStep": f / 1e9}
                       for d, t, c, f in zip(STAGES, per, per_cpu, flops)],
            "wallClockSpeedup": per[2] / sum(s * t for s, t in zip(SHARES, per)),
            "cpuTimeSpeedup": per_cpu[2] / sum(s * t for s, t in zip(SHARES, per_cpu)),
            "flopsRatio": flops[2] / sum(s * f for s, f in zip(SHARES, flops)),
        }
    return out


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m reclab.bench_step", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-curriculum", action="store_true")
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("reclab.bench_step: --device cuda but torch sees no CUDA GPU", file=sys.stderr)
        return 2
    r = run(args)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"9x9 TRM step (attention + RoPE, B={args.batch}, D=128, T=3, n=6; {r['gflopPerStep']:.1f} GFLOP) on {r['device']}, "
          f"torch {r['torch']}, {r['threads']} threads, median of {args.rounds}, load average "
          f"{r['loadAverage']['before']:.1f} -> {r['loadAverage']['after']:.1f}:")
    for k in ("engine", "plain"):
        print(f"  {k:7s} {r[k]['secondsPerStep']:.3f} s/step, {r[k]['gflops']:.1f} GFLOP/s, {r[k]['cpuSecondsPerStep']:.3f} CPU s/step")
    print(f"  engine / plain: {r['engineOverPlain']:.3f} wall, {r['engineOverPlainCpu']:.3f} CPU time (the engine's overhead)")
    if "curriculum" in r:
        c = r["curriculum"]
        for s in c["stages"]:
            print(f"  (T={s['depth'][0]}, n={s['depth'][1]}): {s['secondsPerStep']:.3f} s/step, {s['cpuSecondsPerStep']:.3f} CPU s/step, "
                  f"{s['gflopPerStep']:.1f} GFLOP")
        print(f"  PDC at equal steps: speedup {c['wallClockSpeedup']:.2f}x wall, {c['cpuTimeSpeedup']:.2f}x CPU time; "
              f"training-FLOPs ratio {c['flopsRatio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
