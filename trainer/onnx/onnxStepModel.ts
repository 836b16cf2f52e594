// A contract-honouring .onnx file on onnxruntime-node (CPU), as a StepModel. The file is
// validated against the step contract before a session is created, so a model that does not
// honour it fails with the list of what is missing or mis-shaped. onnxruntime-node (a native
// module) is loaded on first use, so the trainer's other commands never load it.
import type * as ort from 'onnxruntime-node';
import { contractDeqOutputs, contractInputs, contractOutputs, formatContractProblems, initStateName, nextStateName, validateStepContract, type StepContract } from '../../protocol/onnxContract';
import type { StepInput, StepModel, StepOutput } from '../inspect/stepModel';
import { InputError } from '../inputError';
import { describeOnnxBytes, describeOnnxFile } from './modelDescription';

export interface OnnxStepOptions {
  /** Intra-op threads; 0 = onnxruntime's default (all cores). */
  threads?: number;
}

/**
 * The longest command line a process may have when it loads onnxruntime-node: its native module
 * overflows its stack (SIGSEGV, exit 139, no message) once the command line reaches ~29 kB
 * (measured: `reclab inspect` with 1,500 --puzzle at 39 kB, `reclab vote` at 30 kB).
 */
export const MAX_COMMAND_LINE_BYTES = 16_384;

/** The process's command line in bytes when it is too long to load onnxruntime-node safely, else undefined. */
export function commandLineTooLongForOnnxruntime(argv: readonly string[] = process.argv): number | undefined {
  const bytes = Buffer.byteLength(argv.join(' '));
  return bytes > MAX_COMMAND_LINE_BYTES ? bytes : undefined;
}

let runtimeModule: Promise<typeof ort> | undefined;
function loadRuntime(): Promise<typeof ort> {
  // A CommonJS package: under an ES-module loader its exports may sit on `default`.
  return (runtimeModule ??= import('onnxruntime-node').then((m) => ((m as { InferenceSession?: unknown }).InferenceSession ? m : (m as unknown as { default: typeof ort }).default)));
}

/** [S, D] of the state a DEQ model's solve finds. */
function innerDims(c: StepContract): [number, number] {
  const s = c.states.find((x) => x.name === c.deq?.innerState)!;
  return [s.seq, s.width];
}

/** The step contract of a .onnx file, checked as a session would check it, without creating one. */
export function readStepContract(path: string): StepContract {
  const check = validateStepContract(describeOnnxFile(path).description);
  if (!check.ok) throw new Error(formatContractProblems(path, check.problems));
  return check.contract;
}

export class OnnxStepModel implements StepModel {
  private constructor(readonly contract: StepContract, private readonly session: ort.InferenceSession, private readonly runtime: typeof ort, readonly source: string) {}

  static async fromFile(path: string, opts: OnnxStepOptions = {}): Promise<OnnxStepModel> {
    const { bytes, description } = describeOnnxFile(path);
    return OnnxStepModel.create(bytes, description, path, opts);
  }

  static async fromBytes(bytes: Uint8Array, source: string, opts: OnnxStepOptions = {}): Promise<OnnxStepModel> {
    return OnnxStepModel.create(bytes, describeOnnxBytes(bytes, source), source, opts);
  }

  private static async create(bytes: Uint8Array, description: ReturnType<typeof describeOnnxBytes>, source: string, opts: OnnxStepOptions): Promise<OnnxStepModel> {
    const check = validateStepContract(description);
    if (!check.ok) throw new Error(formatContractProblems(source, check.problems));
    // Every command checks this first with its own hint; here it guards any later caller.
    const tooLong = commandLineTooLongForOnnxruntime();
    if (tooLong !== undefined) throw new InputError(`the command line is ${tooLong} bytes (at most ${MAX_COMMAND_LINE_BYTES}): onnxruntime-node crashes on longer ones`);
    const runtime = await loadRuntime();
    const session = await runtime.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    }).catch((e: unknown) => { throw new Error(`${source}: onnxruntime cannot load the graph: ${(e as Error).message}`); });
    return new OnnxStepModel(check.contract, session, runtime, source);
  }

  private feeds(input: StepInput): Record<string, ort.Tensor> {
    const c = this.contract;
    const B = input.batch;
    if (c.batch !== undefined && c.batch !== B) throw new Error(`${this.source}: the graph has a fixed batch of ${c.batch}, asked for ${B}`);
    if (input.tokens.length !== B * c.seqLen) throw new Error(`tokens: expected ${B}x${c.seqLen} values, got ${input.tokens.length}`);
    const tokens = new BigInt64Array(input.tokens.length);
    for (let i = 0; i < tokens.length; i++) tokens[i] = BigInt(input.tokens[i]!);
    const feeds: Record<string, ort.Tensor> = {
      [contractInputs.tokens]: new this.runtime.Tensor('int64', tokens, [B, c.seqLen]),
      [contractInputs.reset]: new this.runtime.Tensor('bool', Uint8Array.from(input.reset), [B]),
    };
    c.states.forEach((s, i) => {
      const data = input.states[i]!;
      if (data.length !== B * s.seq * s.width) throw new Error(`state ${s.name}: expected ${B}x${s.seq}x${s.width} values, got ${data.length}`);
      feeds[s.name] = new this.runtime.Tensor('float32', data, [B, s.seq, s.width]);
    });
    return feeds;
  }

  async step(input: StepInput): Promise<StepOutput> {
    const c = this.contract;
    const fetches = [...c.states.map((s) => nextStateName(s.name)), contractOutputs.logits, contractOutputs.qHalt];
    if (c.hasQContinue) fetches.push(contractOutputs.qContinue);
    if (c.deq?.hasResiduals) fetches.push(contractDeqOutputs.residuals);
    const innerMap = input.innerMap === true && c.deq?.hasInnerMap === true;
    if (innerMap) fetches.push(contractDeqOutputs.innerMap);
    const out = await this.run(this.feeds(input), fetches);
    const B = input.batch;
    const f32 = (name: string, dims: number[]) => {
      const t = out[name]!;
      if (t.type !== 'float32' || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
        throw new Error(`${this.source}: output "${name}" came back as ${t.type} [${t.dims.join(', ')}], the contract needs float32 [${dims.join(', ')}]`);
      }
      return t.data as Float32Array;
    };
    return {
      states: c.states.map((s) => f32(nextStateName(s.name), [B, s.seq, s.width])),
      logits: f32(contractOutputs.logits, [B, c.seqLen, c.vocabSize]),
      qHalt: f32(contractOutputs.qHalt, [B]),
      ...(c.hasQContinue ? { qContinue: f32(contractOutputs.qContinue, [B]) } : {}),
      ...(c.deq?.hasResiduals ? { deqResiduals: f32(contractDeqOutputs.residuals, [B, c.hCycles, c.deq.iterations]) } : {}),
      ...(innerMap ? { innerMap: f32(contractDeqOutputs.innerMap, [B, ...innerDims(c)]) } : {}),
    };
  }

  async initialStates(batch: number): Promise<Float32Array[]> {
    const c = this.contract;
    const input: StepInput = {
      batch, tokens: new Int32Array(batch * c.seqLen).fill(1), reset: new Uint8Array(batch).fill(1),
      states: c.states.map((s) => new Float32Array(batch * s.seq * s.width)),
    };
    const out = await this.run(this.feeds(input), c.states.map((s) => initStateName(s.name)));
    return c.states.map((s) => out[initStateName(s.name)]!.data as Float32Array);
  }

  /** A failure inside the graph (a mismatched dimension in a node) names the file. */
  private async run(feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    try {
      return await this.session.run(feeds, fetches);
    } catch (e) {
      throw new Error(`${this.source}: onnxruntime failed running the graph: ${(e as Error).message}`);
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
