// The worker-thread side of OnnxWorkerModel (onnxWorkerModel.ts): one onnxruntime session,
// single-threaded, answering step / initialStates requests from the main thread. onnxruntime-node
// runs a session synchronously on the thread that calls it, so sessions side by side need threads
// of their own to use more than one core.
import { parentPort, workerData } from 'node:worker_threads';
import type { StepInput, StepOutput } from '../inspect/stepModel';
import { OnnxStepModel } from './onnxStepModel';

export interface WorkerInit { file: string }
export type WorkerRequest = { id: number; kind: 'step'; input: StepInput } | { id: number; kind: 'initialStates'; batch: number } | { id: number; kind: 'dispose' };
export type WorkerReply = { kind: 'ready'; contract: OnnxStepModel['contract'] } | { kind: 'failed'; message: string }
  | { id: number; kind: 'step'; output: StepOutput } | { id: number; kind: 'initialStates'; states: Float32Array[] } | { id: number; kind: 'disposed' } | { id: number; kind: 'error'; message: string };

function buffersOf(arrays: readonly (Float32Array | undefined)[]): ArrayBuffer[] {
  return arrays.filter((a): a is Float32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

async function serve(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  let model: OnnxStepModel;
  try {
    model = await OnnxStepModel.fromFile(init.file, { threads: 1 });
  } catch (e) {
    port.postMessage({ kind: 'failed', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    return;
  }
  port.postMessage({ kind: 'ready', contract: model.contract } satisfies WorkerReply);
  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      try {
        if (req.kind === 'step') {
          const output = await model.step(req.input);
          // The output arrays are this thread's own: move them, do not copy.
          port.postMessage({ id: req.id, kind: 'step', output } satisfies WorkerReply, buffersOf([...output.states, output.logits, output.qHalt, output.qContinue]));
        } else if (req.kind === 'initialStates') {
          const states = await model.initialStates(req.batch);
          port.postMessage({ id: req.id, kind: 'initialStates', states } satisfies WorkerReply, buffersOf(states));
        } else {
          await model.dispose();
          port.postMessage({ id: req.id, kind: 'disposed' } satisfies WorkerReply);
          port.close();
        }
      } catch (e) {
        port.postMessage({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
      }
    })();
  });
}

if (parentPort) void serve(parentPort, workerData as WorkerInit);
