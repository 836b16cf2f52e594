// The layers of our latent models (trainer/model/latentModelBase.ts, layers.ts) as ONNX nodes, for
// the step graphs (trmStepGraph.ts, attractorStepGraph.ts): the input embedding with its scales
// folded in, RMSNorm, SwiGLU, self-attention with RoPE, and the two block stacks — post-norm on
// h + injection (TRM, HRM) and pre-norm with optional per-channel gates (the Attractor form).
// Every call reuses the same weight initializers; fused weights are split at export time
// (gate/up, q/k/v), constant scales folded into tables.
import { ropeTables } from '../model/layers';
import type { RecursiveModel } from '../model/recursiveModel';
import type { GraphBuilder } from './graphBuilder';

/** One block's weights as initializer names: the mixer's (seq MLP gate/up/down, or attention q/k/v/o) and the channel MLP's. */
export interface BlockWeights {
  mix: string[];
  mlp: [string, string, string];
}

/** Per-channel [D] gates of a pre-norm block's two branches, as initializer names. */
export interface BlockGates {
  mixer: string;
  mlp: string;
}

/** Columns [start, start + count) of a row-major [rows, cols] matrix. */
function columns(w: Float32Array, rows: number, cols: number, start: number, count: number): Float32Array {
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(w.subarray(r * cols + start, r * cols + start + count), r * count);
  return out;
}

function scaled(a: Float32Array, s: number): Float32Array {
  return a.map((v) => v * s);
}

export class LayerGraph {
  private readonly D: number;
  private readonly S: number;
  private readonly epsName: string;
  private readonly two: string;
  private readonly ones = new Map<number, string>();
  private readonly rope: { cos: string; sin: string; rot: string } | undefined;
  private readonly attn: { headShape: string; mergeShape: string; scale: string } | undefined;

  constructor(private readonly g: GraphBuilder, private readonly model: RecursiveModel, private readonly params: ReadonlyMap<string, Float32Array>) {
    const cfg = model.config;
    this.D = model.width;
    this.S = model.totalLen;
    this.epsName = g.float('rms_eps', Float32Array.of(cfg.rmsNormEps), []);
    this.two = g.float('pow_two', Float32Array.of(2), []);
    if (cfg.mixer === 'attention') {
      const H = cfg.numHeads, hd = this.D / H;
      this.attn = { headShape: g.int64('shape_heads', [0, 0, H, hd]), mergeShape: g.int64('shape_merge', [0, 0, this.D]), scale: g.float('attn_scale', Float32Array.of(1 / Math.sqrt(hd)), []) };
      if (cfg.posEncodings === 'rope') {
        const t = ropeTables(this.S, hd, cfg.ropeTheta);
        const r = new Float32Array(hd * hd);
        const half = hd / 2;
        for (let j = 0; j < half; j++) {
          r[(j + half) * hd + j] = -1; // out[j] = -x[j + half]
          r[j * hd + j + half] = 1; // out[j + half] = x[j]
        }
        this.rope = { cos: g.float('rope_cos', t.cos, [this.S, hd]), sin: g.float('rope_sin', t.sin, [this.S, hd]), rot: g.float('rope_rotate_half', r, [hd, hd]) };
      }
    }
  }

  private p(name: string): Float32Array {
    const v = this.params.get(name);
    if (!v) throw new Error(`export: parameter ${name} is missing`);
    return v;
  }

  /** x = sqrt(D) · [puzzle-embedding prefix ; embed(tokens)] (+ learned positions, · 1/√2), as inputEmbedding. */
  embedding(tokens: string): string {
    const { g, model, D } = this;
    const P = model.prefixLen;
    const learned = model.config.posEncodings === 'learned';
    const scale = Math.sqrt(D) * (learned ? Math.SQRT1_2 : 1);
    const embed = g.float('embed_tokens_scaled', scaled(this.p('embed_tokens'), scale), [model.task.vocabSize, D]);
    let x = g.op('Gather', [embed, tokens], { axis: 0 }); // [B, L, D]
    if (P > 0) {
      const prefix = new Float32Array(P * D);
      prefix.set(this.p('puzzle_emb'));
      const prefixName = g.float('prefix_scaled', scaled(prefix, scale), [1, P, D]);
      const batchDim = g.op('Slice', [g.op('Shape', [tokens]), g.int64('slice0_start', [0]), g.int64('slice0_end', [1])]);
      const prefixShape = g.op('Concat', [batchDim, g.int64('prefix_PD', [P, D])], { axis: 0 });
      x = g.op('Concat', [g.op('Expand', [prefixName, prefixShape]), x], { axis: 1 }); // [B, S, D]
    }
    if (learned) x = g.op('Add', [x, g.float('pos_emb_scaled', scaled(this.p('pos_emb'), scale), [this.S, D])]);
    return x;
  }

  /**
   * RMSNorm over the last axis (of size `width`), without gain. Written as onnxruntime's
   * SimplifiedLayerNormFusion pattern (Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul by a 1-D scale
   * of ones), which it fuses into one kernel: a third of a step's time was these elementwise passes.
   */
  rmsNorm(h: string, width = this.D): string {
    const g = this.g;
    if (!this.ones.has(width)) this.ones.set(width, g.float(`rms_scale_${width}`, new Float32Array(width).fill(1), [width]));
    const ms = g.op('ReduceMean', [g.op('Pow', [h, this.two])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [h, g.op('Sqrt', [g.op('Add', [ms, this.epsName])])]), this.ones.get(width)!]);
  }

  swiglu(h: string, gate: string, up: string, down: string): string {
    const g = this.g;
    const a = g.op('MatMul', [h, gate]);
    const silu = g.op('Mul', [a, g.op('Sigmoid', [a])]);
    return g.op('MatMul', [g.op('Mul', [silu, g.op('MatMul', [h, up])]), down]);
  }

  /** Multi-head self-attention (RoPE on q and k when the model uses it) with the output projection. */
  attention(h: string, [wq, wk, wv, wo]: string[]): string {
    const { g } = this;
    const a = this.attn!;
    const heads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, a.headShape])], { perm: [0, 2, 1, 3] }); // [B, H, S, hd]
    let q = heads(g.op('MatMul', [h, wq!]));
    let k = heads(g.op('MatMul', [h, wk!]));
    const v = heads(g.op('MatMul', [h, wv!]));
    const rope = this.rope;
    if (rope) {
      const apply = (t: string) => g.op('Add', [g.op('Mul', [t, rope.cos]), g.op('Mul', [g.op('MatMul', [t, rope.rot]), rope.sin])]);
      q = apply(q);
      k = apply(k);
    }
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), a.scale]);
    const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1, 3] }), a.mergeShape]);
    return g.op('MatMul', [merged, wo!]);
  }

  /** The initializers of `count` blocks named `${prefix}.{i}.…`, fused weights split. */
  blockWeights(prefix: string, count: number): BlockWeights[] {
    const { g, model, D, S } = this;
    const F = model.channelFfn;
    const layers: BlockWeights[] = [];
    for (let i = 0; i < count; i++) {
      const name = (n: string) => `${prefix}.${i}.${n}`;
      const gu = this.p(name('mlp.gate_up'));
      const mlp: [string, string, string] = [
        g.float(name('mlp.gate'), columns(gu, D, 2 * F, 0, F), [D, F]),
        g.float(name('mlp.up'), columns(gu, D, 2 * F, F, F), [D, F]),
        g.float(name('mlp.down'), this.p(name('mlp.down')), [F, D]),
      ];
      let mix: string[];
      if (model.config.mixer === 'mlp_t') {
        const Fs = model.sequenceFfn;
        const sgu = this.p(name('seq_mlp.gate_up'));
        mix = [
          g.float(name('seq_mlp.gate'), columns(sgu, S, 2 * Fs, 0, Fs), [S, Fs]),
          g.float(name('seq_mlp.up'), columns(sgu, S, 2 * Fs, Fs, Fs), [S, Fs]),
          g.float(name('seq_mlp.down'), this.p(name('seq_mlp.down')), [Fs, S]),
        ];
      } else {
        const qkv = this.p(name('attn.qkv'));
        mix = [
          g.float(name('attn.q'), columns(qkv, D, 3 * D, 0, D), [D, D]),
          g.float(name('attn.k'), columns(qkv, D, 3 * D, D, D), [D, D]),
          g.float(name('attn.v'), columns(qkv, D, 3 * D, 2 * D, D), [D, D]),
          g.float(name('attn.o'), this.p(name('attn.o')), [D, D]),
        ];
      }
      layers.push({ mix, mlp });
    }
    return layers;
  }

  /** The mixer of one block on h [B, S, D]: mlp_t mixes across positions ([B, D, S] inside). */
  private mixer(h: string, lw: BlockWeights): string {
    const g = this.g;
    if (this.model.config.mixer !== 'mlp_t') return this.attention(h, lw.mix);
    const ht = g.op('Transpose', [h], { perm: [0, 2, 1] });
    return g.op('Transpose', [this.swiglu(ht, lw.mix[0]!, lw.mix[1]!, lw.mix[2]!)], { perm: [0, 2, 1] });
  }

  /** Post-norm blocks on h + injection (LatentModelBase.blocks: TRM's and HRM's networks). */
  postNormBlocks(layers: readonly BlockWeights[], h: string, injection: string): string {
    const g = this.g;
    let y = g.op('Add', [h, injection]);
    for (const lw of layers) {
      if (this.model.config.mixer === 'mlp_t') {
        const yt = g.op('Transpose', [y], { perm: [0, 2, 1] }); // [B, D, S]: mix across positions; this norm runs over S
        const mixed = this.swiglu(yt, lw.mix[0]!, lw.mix[1]!, lw.mix[2]!);
        y = g.op('Transpose', [this.rmsNorm(g.op('Add', [yt, mixed]), this.S)], { perm: [0, 2, 1] });
      } else {
        y = this.rmsNorm(g.op('Add', [y, this.attention(y, lw.mix)]), this.D);
      }
      y = this.rmsNorm(g.op('Add', [y, this.swiglu(y, ...lw.mlp)]), this.D);
    }
    return y;
  }

  /**
   * Pre-norm blocks (LatentModelBase.preNormBlocks: the Attractor's backbone and head):
   *   h ← h + g_mixer ⊙ mixer(norm(h));   h ← h + g_mlp ⊙ mlp(norm(h))
   * norm = RMSNorm over the channels; `gates[i]` block i's [D] gates, absent for none.
   */
  preNormBlocks(layers: readonly BlockWeights[], h: string, gates?: readonly BlockGates[]): string {
    const g = this.g;
    let x = h;
    layers.forEach((lw, i) => {
      const gate = gates?.[i];
      let mixed = this.mixer(this.rmsNorm(x), lw);
      if (gate) mixed = g.op('Mul', [mixed, gate.mixer]);
      x = g.op('Add', [x, mixed]);
      let channel = this.swiglu(this.rmsNorm(x), ...lw.mlp);
      if (gate) channel = g.op('Mul', [channel, gate.mlp]);
      x = g.op('Add', [x, channel]);
    });
    return x;
  }
}
