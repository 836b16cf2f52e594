// The parts TRM and HRM share (reference.md §1.3–1.4): the input embedding, a stack of post-norm
// blocks applied to h + injection, the heads, and the cycle loop
//   one cycle:  repeat n: z_L = L_net(z_L, z_H + x);   z_H = H_net(z_H, z_L)
// TRM's L_net and H_net are the same network; HRM's are two networks.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../protocol/config';
import type { Rng } from '../random';
import { truncatedNormal } from './initializers';
import { linear, linearLastAxis, rmsNorm, ropeTables, selfAttention, swiglu, swigluHiddenSize } from './layers';
import type { Heads, LatentStates, ParameterSpec, ParamSet, TaskShape } from './recursiveModel';

export abstract class LatentModelBase {
  readonly width: number;
  readonly prefixLen: number;
  readonly totalLen: number;
  readonly channelFfn: number;
  readonly sequenceFfn: number;
  readonly stateNames = ['zH', 'zL'] as const;
  private rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined;

  constructor(readonly config: ModelConfig, readonly task: TaskShape) {
    this.width = config.hiddenSize;
    this.prefixLen = config.puzzleEmbLen;
    this.totalLen = task.seqLen + this.prefixLen;
    this.channelFfn = swigluHiddenSize(this.width, config.expansion, config.ffnMultipleOf);
    this.sequenceFfn = swigluHiddenSize(this.totalLen, config.expansion, config.ffnMultipleOf);
    if (config.mixer === 'attention' && this.width % config.numHeads !== 0) {
      throw new Error(`model.numHeads: hiddenSize ${this.width} is not divisible by ${config.numHeads} heads`);
    }
    if (config.mixer === 'mlp_t' && config.posEncodings === 'rope') {
      throw new Error('model.posEncodings: "rope" needs the attention mixer (mlp_t has no q/k)');
    }
  }

  /** The z_L update's network. */
  abstract lNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D;
  /** The z_H update's network. */
  abstract hNet(p: ParamSet, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D;

  /** Embedding specs (before the blocks, in checkpoint order). */
  protected embeddingSpecs(): ParameterSpec[] {
    const D = this.width;
    const specs: ParameterSpec[] = [
      { name: 'embed_tokens', shape: [this.task.vocabSize, D], init: { kind: 'truncatedNormal', std: 1 / Math.sqrt(D) }, group: 'main' },
    ];
    if (this.prefixLen > 0) specs.push({ name: 'puzzle_emb', shape: [D], init: { kind: 'zeros' }, group: 'puzzleEmbedding' });
    if (this.config.posEncodings === 'learned') {
      specs.push({ name: 'pos_emb', shape: [this.totalLen, D], init: { kind: 'truncatedNormal', std: 1 / Math.sqrt(D) }, group: 'main' });
    }
    return specs;
  }

  /** Specs of `count` blocks named `${prefix}.{i}.…`; `extra(i)` appends a block's own further specs. */
  protected blockSpecs(prefix: string, count: number, extra?: (block: number) => ParameterSpec[]): ParameterSpec[] {
    const D = this.width;
    const lin = (name: string, fanIn: number, fanOut: number): ParameterSpec =>
      ({ name, shape: [fanIn, fanOut], init: { kind: 'truncatedNormal', std: 1 / Math.sqrt(fanIn) }, group: 'main' });
    const specs: ParameterSpec[] = [];
    for (let i = 0; i < count; i++) {
      if (this.config.mixer === 'mlp_t') {
        specs.push(lin(`${prefix}.${i}.seq_mlp.gate_up`, this.totalLen, 2 * this.sequenceFfn));
        specs.push(lin(`${prefix}.${i}.seq_mlp.down`, this.sequenceFfn, this.totalLen));
      } else {
        specs.push(lin(`${prefix}.${i}.attn.qkv`, D, 3 * D));
        specs.push(lin(`${prefix}.${i}.attn.o`, D, D));
      }
      specs.push(lin(`${prefix}.${i}.mlp.gate_up`, D, 2 * this.channelFfn));
      specs.push(lin(`${prefix}.${i}.mlp.down`, this.channelFfn, D));
      if (extra) specs.push(...extra(i));
    }
    return specs;
  }

  /** lm_head, then the zero-weight Q head with bias qHeadBiasInit. */
  protected headSpecs(): ParameterSpec[] {
    const D = this.width;
    return [
      { name: 'lm_head', shape: [D, this.task.vocabSize], init: { kind: 'truncatedNormal', std: 1 / Math.sqrt(D) }, group: 'main' },
      { name: 'q_head.w', shape: [D, 2], init: { kind: 'zeros' }, group: 'main' },
      { name: 'q_head.b', shape: [2], init: { kind: 'constant', value: this.config.qHeadBiasInit }, group: 'main' },
    ];
  }

  abstract parameterSpecs(): ParameterSpec[];

  /** Fresh parameter values, in spec order, drawn from `rng`. */
  initialParameters(rng: Rng): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const s of this.parameterSpecs()) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const values = s.init.kind === 'truncatedNormal' ? truncatedNormal(size, s.init.std, rng) : new Float32Array(size);
      if (s.init.kind === 'constant') values.fill(s.init.value);
      out.set(s.name, values);
    }
    return out;
  }

  /** H_init and L_init: fixed (untrained) [D] vectors, truncated normal std 1. */
  initialStates(rng: Rng): { hInit: Float32Array; lInit: Float32Array } {
    return { hInit: truncatedNormal(this.width, 1, rng), lInit: truncatedNormal(this.width, 1, rng) };
  }

  /** tokens int32 [B, L] -> x [B, prefix + L, D]. */
  inputEmbedding(p: ParamSet, tokens: tf.Tensor2D): tf.Tensor3D {
    const [batch] = tokens.shape;
    const D = this.width;
    // One-hot times the table instead of a gather: the wasm backend lacks the kernel of the
    // gather's gradient (UnsortedSegmentSum), and with a vocabulary of 6-11 the matmul is cheap.
    const [, seq] = tokens.shape;
    const onehot = tf.oneHot(tf.reshape(tokens, [-1]), this.task.vocabSize) as tf.Tensor2D;
    let emb: tf.Tensor = tf.reshape(linear(onehot, p['embed_tokens'] as tf.Tensor2D), [batch, seq, D]);
    if (this.prefixLen > 0) {
      // Prefix token 0 carries the learned puzzle embedding; tokens 1.. start as zeros.
      const first = tf.reshape(p['puzzle_emb']!, [1, 1, D]);
      const rest = tf.zeros([1, this.prefixLen - 1, D]);
      const prefix = tf.tile(tf.concat([first, rest], 1), [batch, 1, 1]);
      emb = tf.concat([prefix, emb], 1);
    }
    if (this.config.posEncodings === 'learned') emb = tf.mul(tf.add(emb, p['pos_emb']!), Math.SQRT1_2);
    return tf.mul(emb, Math.sqrt(D)) as tf.Tensor3D;
  }

  /** `count` post-norm blocks named `${prefix}.{i}.…` applied to h + injection. */
  protected blocks(p: ParamSet, prefix: string, count: number, h: tf.Tensor3D, injection: tf.Tensor3D): tf.Tensor3D {
    const eps = this.config.rmsNormEps;
    const [batch, seq, D] = h.shape;
    let x = tf.add(h, injection) as tf.Tensor3D;
    for (let i = 0; i < count; i++) {
      const w = (n: string) => p[`${prefix}.${i}.${n}`] as tf.Tensor2D;
      if (this.config.mixer === 'mlp_t') {
        // Mix across positions: [B, D, L]; this norm runs over the sequence axis (per channel).
        const xt = tf.transpose(x, [0, 2, 1]);
        const mixed = tf.reshape(swiglu(tf.reshape(xt, [batch * D, seq]), w('seq_mlp.gate_up'), w('seq_mlp.down')), [batch, D, seq]);
        x = tf.transpose(rmsNorm(tf.add(xt, mixed), eps), [0, 2, 1]) as tf.Tensor3D;
      } else {
        x = rmsNorm(tf.add(x, selfAttention(x, w('attn.qkv'), w('attn.o'), this.config.numHeads, this.ropeConstants())), eps) as tf.Tensor3D;
      }
      const channel = tf.reshape(swiglu(tf.reshape(x, [batch * seq, D]), w('mlp.gate_up'), w('mlp.down')), [batch, seq, D]);
      x = rmsNorm(tf.add(x, channel), eps) as tf.Tensor3D;
    }
    return x;
  }

  /**
   * `count` pre-norm blocks named `${prefix}.{i}.…` (the Attractor's backbone and head):
   *   h ← h + g_mixer ⊙ mixer(norm(h));   h ← h + g_mlp ⊙ mlp(norm(h))
   * norm = RMSNorm over the channels without gain (mlp_t mixes across positions after it);
   * `gate(i)` gives block i's per-channel [D] gates, or undefined for none (the backbone).
   */
  protected preNormBlocks(p: ParamSet, prefix: string, count: number, h: tf.Tensor3D, gate?: (block: number) => { mixer: tf.Tensor; mlp: tf.Tensor }): tf.Tensor3D {
    const eps = this.config.rmsNormEps;
    const [batch, seq, D] = h.shape;
    let x = h;
    for (let i = 0; i < count; i++) {
      const w = (n: string) => p[`${prefix}.${i}.${n}`] as tf.Tensor2D;
      const g = gate?.(i);
      const n1 = rmsNorm(x, eps) as tf.Tensor3D;
      let mixed: tf.Tensor = this.config.mixer === 'mlp_t'
        ? tf.transpose(tf.reshape(swiglu(tf.reshape(tf.transpose(n1, [0, 2, 1]), [batch * D, seq]), w('seq_mlp.gate_up'), w('seq_mlp.down')), [batch, D, seq]), [0, 2, 1])
        : selfAttention(n1, w('attn.qkv'), w('attn.o'), this.config.numHeads, this.ropeConstants());
      if (g) mixed = tf.mul(mixed, g.mixer);
      x = tf.add(x, mixed) as tf.Tensor3D;
      let channel: tf.Tensor = tf.reshape(swiglu(tf.reshape(rmsNorm(x, eps), [batch * seq, D]) as tf.Tensor2D, w('mlp.gate_up'), w('mlp.down')), [batch, seq, D]);
      if (g) channel = tf.mul(channel, g.mlp);
      x = tf.add(x, channel) as tf.Tensor3D;
    }
    return x;
  }

  /** One cycle: n latent updates (they see x), then one answer update (it does not). */
  cycle(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D, lCycles: number): LatentStates {
    for (let i = 0; i < lCycles; i++) zL = this.lNet(p, zL, tf.add(zH, x));
    zH = this.hNet(p, zH, zL);
    return { zH, zL };
  }

  /**
   * `cycles` full cycles followed by `extraLatentUpdates` z_L updates, outside any gradient
   * tape, each network call in its own tidy scope so only the carried states survive. The
   * caller keeps ownership of its inputs; the outputs are new tensors (or the inputs themselves
   * when there was nothing to run).
   */
  cyclesWithoutGradient(p: ParamSet, zH: tf.Tensor3D, zL: tf.Tensor3D, x: tf.Tensor3D, cycles: number, lCycles: number, extraLatentUpdates = 0): LatentStates {
    const owned = new Set<tf.Tensor>();
    const replace = (old: tf.Tensor3D, next: tf.Tensor3D) => {
      if (owned.delete(old)) old.dispose();
      owned.add(next);
      return next;
    };
    for (let c = 0; c < cycles; c++) {
      for (let i = 0; i < lCycles; i++) zL = replace(zL, tf.tidy(() => this.lNet(p, zL, tf.add(zH, x))));
      zH = replace(zH, tf.tidy(() => this.hNet(p, zH, zL)));
    }
    for (let i = 0; i < extraLatentUpdates; i++) zL = replace(zL, tf.tidy(() => this.lNet(p, zL, tf.add(zH, x))));
    return { zH, zL };
  }

  /** logits [B, L, V] over the puzzle positions, and Q logits from position 0: [B] each. */
  heads(p: ParamSet, zH: tf.Tensor3D): Heads {
    const [batch, , D] = zH.shape;
    const puzzle = tf.slice(zH, [0, this.prefixLen, 0], [batch, this.task.seqLen, D]);
    const logits = linearLastAxis(puzzle, p['lm_head'] as tf.Tensor2D) as tf.Tensor3D;
    const first = tf.reshape(tf.slice(zH, [0, 0, 0], [batch, 1, D]), [batch, D]);
    const q = tf.add(tf.matMul(first, p['q_head.w'] as tf.Tensor2D), p['q_head.b']!);
    const [qHalt, qContinue] = tf.unstack(q, 1) as [tf.Tensor1D, tf.Tensor1D];
    return { logits, qHalt, qContinue };
  }

  protected ropeConstants(): { cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined {
    if (this.config.posEncodings !== 'rope') return undefined;
    if (!this.rope) {
      const headDim = this.width / this.config.numHeads;
      const { cos, sin } = ropeTables(this.totalLen, headDim, this.config.ropeTheta);
      this.rope = { cos: tf.keep(tf.tensor2d(cos, [this.totalLen, headDim])), sin: tf.keep(tf.tensor2d(sin, [this.totalLen, headDim])) };
    }
    return this.rope;
  }
}
