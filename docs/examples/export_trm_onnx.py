#!/usr/bin/env python3
"""Export a TRM-style PyTorch model to the Recursion Lab ONNX step contract.

One ONNX graph = ONE supervision step (docs/onnx-contract.md, contract "reclab-onnx-step-1"):

    inputs   tokens        int64   [B, L]
             z_H, z_L      float32 [B, S, D]    the carried states (S = puzzle_emb_len + L)
             reset         bool    [B]          true: start from H_init / L_init
    outputs  z_H_next, z_L_next   float32 [B, S, D]
             logits               float32 [B, L, V]
             q_halt               float32 [B]
             q_continue           float32 [B]   (optional in the contract)
             z_H_init, z_L_init   float32 [B, S, D]   the states `reset` substitutes
    metadata reclab.contract, reclab.task, reclab.vocab, reclab.seq_len, reclab.state_names,
             reclab.arch, reclab.h_cycles, reclab.l_cycles (+ optional reclab.answer_state,
             reclab.halt_max_steps)

The model below follows TinyRecursiveModels' trm.py (post-norm blocks without gain, SwiGLU,
the mlp_t sequence mixer or non-causal attention, T cycles of n latent updates plus one answer
update). To export your own trained TRM, load its weights into `TRM` (or wrap your own module
the way `ContractStep` does: the step function is all the contract needs) and run this script.

    python3 export_trm_onnx.py --out model.onnx                       # random weights
    python3 export_trm_onnx.py --out model.onnx --weights trm.pt      # a state_dict of TRM
    reclab inspect model.onnx --puzzle 1.3.....2.4..3.2              # then inspect it

Needs only PyTorch (tested with Debian's python3-torch 1.13); the metadata properties are
appended to the ModelProto with a few lines of protobuf encoding, so the `onnx` package is not
required.
"""
import argparse
import json
import math

import torch
import torch.nn as nn

CONTRACT = "reclab-onnx-step-1"


def rms_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    return x * torch.rsqrt(x.float().square().mean(-1, keepdim=True) + eps)


def swiglu_hidden(width: int, expansion: float, multiple_of: int) -> int:
    raw = round(expansion * width * 2 / 3)
    return -(-raw // multiple_of) * multiple_of


class SwiGLU(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.gate_up = nn.Linear(width, 2 * hidden, bias=False)  # chunk order: gate, then up
        self.down = nn.Linear(hidden, width, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(torch.nn.functional.silu(gate) * up)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.o = nn.Linear(width, width, bias=False)

    def forward(self, x):
        b, s, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)  # non-causal
        return self.o((att @ v).transpose(1, 2).reshape(b, s, d))


class Block(nn.Module):
    """Post-norm: h = norm(h + mixer(h)); h = norm(h + mlp(h))."""

    def __init__(self, cfg):
        super().__init__()
        self.mixer = cfg.mixer
        if cfg.mixer == "mlp_t":  # SwiGLU across positions, normalised over the sequence axis
            self.seq_mlp = SwiGLU(cfg.total_len, swiglu_hidden(cfg.total_len, cfg.expansion, cfg.multiple_of))
        else:
            self.attn = Attention(cfg.hidden, cfg.heads)
        self.mlp = SwiGLU(cfg.hidden, swiglu_hidden(cfg.hidden, cfg.expansion, cfg.multiple_of))

    def forward(self, h):
        if self.mixer == "mlp_t":
            t = h.transpose(1, 2)
            h = rms_norm(t + self.seq_mlp(t)).transpose(1, 2)
        else:
            h = rms_norm(h + self.attn(h))
        return rms_norm(h + self.mlp(h))


class TRM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden
        self.embed_tokens = nn.Embedding(cfg.vocab, d)
        nn.init.trunc_normal_(self.embed_tokens.weight, std=1 / math.sqrt(d))
        self.register_buffer("puzzle_emb", torch.zeros(d))  # the learned puzzle-embedding prefix token
        self.register_buffer("H_init", nn.init.trunc_normal_(torch.empty(d), std=1))
        self.register_buffer("L_init", nn.init.trunc_normal_(torch.empty(d), std=1))
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.lm_head = nn.Linear(d, cfg.vocab, bias=False)
        self.q_head = nn.Linear(d, 2)

    def input_embedding(self, tokens):
        b = tokens.shape[0]
        emb = self.embed_tokens(tokens)
        if self.cfg.puzzle_emb_len > 0:
            # Prefix token 0 carries the puzzle embedding, the others start as zeros.
            rest = torch.zeros(self.cfg.puzzle_emb_len - 1, self.cfg.hidden, dtype=emb.dtype)
            prefix = torch.cat([self.puzzle_emb.view(1, -1), rest], dim=0)
            emb = torch.cat([prefix.unsqueeze(0).expand(b, -1, -1), emb], dim=1)
        return math.sqrt(self.cfg.hidden) * emb

    def net(self, h, injection):
        h = h + injection
        for layer in self.layers:
            h = layer(h)
        return h

    def step(self, tokens, z_H, z_L):
        """One supervision step: T cycles of n latent updates and one answer update."""
        x = self.input_embedding(tokens)
        for _ in range(self.cfg.h_cycles):
            for _ in range(self.cfg.l_cycles):
                z_L = self.net(z_L, z_H + x)
            z_H = self.net(z_H, z_L)
        logits = self.lm_head(z_H[:, self.cfg.puzzle_emb_len:])
        q = self.q_head(z_H[:, 0])
        return z_H, z_L, logits, q[:, 0], q[:, 1]


class ContractStep(nn.Module):
    """The contract's signature around any model with initial states and a step function."""

    def __init__(self, model: TRM):
        super().__init__()
        self.model = model

    def forward(self, tokens, z_H, z_L, reset):
        r = reset.view(-1, 1, 1)
        h0 = self.model.H_init.expand_as(z_H)
        l0 = self.model.L_init.expand_as(z_L)
        z_H, z_L = torch.where(r, h0, z_H), torch.where(r, l0, z_L)
        z_H_next, z_L_next, logits, q_halt, q_continue = self.model.step(tokens, z_H, z_L)
        return z_H_next, z_L_next, logits, q_halt, q_continue, h0 + 0, l0 + 0


# --- metadata_props without the onnx package: append ModelProto field 14 entries ----------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint((field << 3) | 2) + _varint(len(payload)) + payload


def append_metadata(path: str, props: dict) -> None:
    """Repeated fields of a protobuf message may be appended: the parser concatenates them."""
    extra = b"".join(
        _length_delimited(14, _length_delimited(1, k.encode()) + _length_delimited(2, str(v).encode()))
        for k, v in props.items()
    )
    with open(path, "ab") as f:
        f.write(extra)


def sudoku_vocab(side: int) -> str:
    return ",".join(["<pad>", "<blank>"] + [str(d) for d in range(1, side + 1)])


def export(model: TRM, path: str, side: int, halt_max_steps: int = 16) -> None:
    cfg = model.cfg
    model.eval()
    b = 2
    tokens = torch.ones(b, cfg.seq_len, dtype=torch.long)
    z = torch.zeros(b, cfg.total_len, cfg.hidden)
    reset = torch.ones(b, dtype=torch.bool)
    names_in = ["tokens", "z_H", "z_L", "reset"]
    names_out = ["z_H_next", "z_L_next", "logits", "q_halt", "q_continue", "z_H_init", "z_L_init"]
    with torch.no_grad():
        torch.onnx.export(
            ContractStep(model), (tokens, z, z.clone(), reset), path,
            input_names=names_in, output_names=names_out,
            dynamic_axes={n: {0: "batch"} for n in names_in + names_out},
            opset_version=17, do_constant_folding=True,
        )
    append_metadata(path, {
        "reclab.contract": CONTRACT,
        "reclab.task": "sudoku",
        "reclab.vocab": sudoku_vocab(side),
        "reclab.seq_len": cfg.seq_len,
        "reclab.state_names": "z_H,z_L",
        "reclab.answer_state": "z_H",
        "reclab.arch": "trm",
        "reclab.h_cycles": cfg.h_cycles,
        "reclab.l_cycles": cfg.l_cycles,
        "reclab.halt_max_steps": halt_max_steps,
        "reclab.producer": "docs/examples/export_trm_onnx.py",
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the .onnx file to write")
    ap.add_argument("--side", type=int, default=4, choices=[4, 9], help="Sudoku side (4x4 or 9x9)")
    ap.add_argument("--mixer", default="mlp_t", choices=["mlp_t", "attention"])
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--expansion", type=float, default=4.0)
    ap.add_argument("--multiple-of", type=int, default=8)
    ap.add_argument("--h-cycles", type=int, default=2)
    ap.add_argument("--l-cycles", type=int, default=2)
    ap.add_argument("--puzzle-emb-len", type=int, default=1)
    ap.add_argument("--weights", help="a state_dict of TRM to load (else random weights)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", help="also write a JSON file with a fixed input and PyTorch's outputs for it")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    cfg = argparse.Namespace(
        vocab=args.side + 2, seq_len=args.side * args.side, hidden=args.hidden, heads=args.heads, layers=args.layers,
        expansion=args.expansion, multiple_of=args.multiple_of, h_cycles=args.h_cycles, l_cycles=args.l_cycles,
        puzzle_emb_len=args.puzzle_emb_len, mixer=args.mixer,
    )
    cfg.total_len = cfg.seq_len + cfg.puzzle_emb_len
    model = TRM(cfg)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    else:  # random, but with non-trivial heads and puzzle embedding
        nn.init.normal_(model.q_head.weight, std=1 / math.sqrt(cfg.hidden))
        nn.init.normal_(model.puzzle_emb, std=1.0)
    export(model, args.out, args.side)

    if args.reference:
        g = torch.Generator().manual_seed(args.seed + 1)
        b = 3
        tokens = torch.randint(1, cfg.vocab, (b, cfg.seq_len), generator=g)
        z_H = torch.randn(b, cfg.total_len, cfg.hidden, generator=g)
        z_L = torch.randn(b, cfg.total_len, cfg.hidden, generator=g)
        reset = torch.tensor([True, False, False])
        with torch.no_grad():
            out = ContractStep(model)(tokens, z_H, z_L, reset)
        flat = lambda t: t.reshape(-1).tolist()  # noqa: E731
        with open(args.reference, "w") as f:
            json.dump({
                "batch": b, "tokens": flat(tokens), "z_H": flat(z_H), "z_L": flat(z_L), "reset": [bool(r) for r in reset],
                "z_H_next": flat(out[0]), "z_L_next": flat(out[1]), "logits": flat(out[2]), "q_halt": flat(out[3]),
            }, f)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
