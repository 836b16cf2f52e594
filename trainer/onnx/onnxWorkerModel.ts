// A contract-honouring .onnx file as a StepModel whose session lives in a worker thread of its
// own (onnxStepWorker.ts). Several of them run steps at the same time on different cores — which
// sessions on the main thread cannot: onnxruntime-node runs a session synchronously on the calling
// thread. `reclab vote` runs its batches on one per core (bench:vote).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StepContract } from '../../protocol/onnxContract';
import type { StepInput, StepModel, StepOutput } from '../inspect/stepModel';
import type { WorkerInit, WorkerReply, WorkerRequest } from './onnxStepWorker';

/** A worker running onnxStepWorker: the bundle's (dist/trainer/onnxStepWorker.js), or the source through tsx (tests run the sources). */
function newWorker(init: WorkerInit): Worker {
  const bundled = join(__dirname, 'onnxStepWorker.js');
  if (existsSync(bundled)) return new Worker(bundled, { workerData: init });
  const source = join(__dirname, 'onnxStepWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: init });
}

type Pending = { resolve(reply: WorkerReply): void; reject(e: Error): void };
/** A request before its id is given (distributed over the union's members). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

export class OnnxWorkerModel implements StepModel {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(readonly contract: StepContract, private readonly worker: Worker, readonly source: string) {
    worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.kind === 'error') p?.reject(new Error(reply.message));
      else p?.resolve(reply);
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${source}: the onnxruntime worker thread exited (code ${code})`)));
  }

  /** A session of `file` (single-threaded) in a new worker thread; fails as OnnxStepModel.fromFile does. */
  static start(file: string): Promise<OnnxWorkerModel> {
    const worker = newWorker({ file });
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      worker.once('error', onError);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('error', onError);
        if (reply.kind === 'ready') resolve(new OnnxWorkerModel(reply.contract, worker, file));
        else {
          void worker.terminate();
          reject(new Error(reply.kind === 'failed' ? reply.message : `${file}: unexpected first message from the onnxruntime worker`));
        }
      });
    });
  }

  private request(req: Unnumbered<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as WorkerRequest, transfer);
    });
  }

  async step(input: StepInput): Promise<StepOutput> {
    // The input is copied (the caller keeps its arrays: the vote reads the states for residuals).
    const reply = await this.request({ kind: 'step', input });
    if (reply.kind !== 'step') throw new Error(`${this.source}: expected a step reply, got ${reply.kind}`);
    return reply.output;
  }

  async initialStates(batch: number): Promise<Float32Array[]> {
    const reply = await this.request({ kind: 'initialStates', batch });
    if (reply.kind !== 'initialStates') throw new Error(`${this.source}: expected initial states, got ${reply.kind}`);
    return reply.states;
  }

  async dispose(): Promise<void> {
    if (!this.failure) await this.request({ kind: 'dispose' }).catch(() => undefined);
    await this.worker.terminate();
  }
}
