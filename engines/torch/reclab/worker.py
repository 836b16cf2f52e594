"""The torch engine's worker: `python -m reclab.worker --run-dir DIR [--resume] [--checkpoint FILE] --schema SCHEMA`.

Node (trainer/engines) has made the run directory (config.json with the resolved config) and the
task data (worker/task-data.safetensors); the worker trains as trainer/trainingRun.ts does and
writes the run directory itself: run_start, step events, periodic eval, stage (PDC) events,
refinement snapshots, checkpoints, then the final eval, summary.json and done. Every event also
goes to stdout, one JSON line, for Node to forward. SIGTERM (Node's one stop signal) ends the
current step (or aborts an evaluation between batches), checkpoints and ends as "stopped".

Exit codes: 0 completed / stopped, 1 a failure during the run (an error event and a failed
summary are written), 2 bad input (bad config, bad data or weights file, torch too old, a device
that is not there) - refused before anything in the run directory changes.

Under torchrun (`--gpus N`) every rank runs this loop on its share of the global batch (the same
stream and halting draws on every rank, each rank taking its rows), gradients are averaged across
ranks, and only rank 0 writes.
"""
from __future__ import annotations

import os

# Before torch (and its OpenMP runtime) loads: threads that sleep rather than spin while they wait.
# On a shared CPU, spinning OpenMP threads (libgomp's default) made a 9x9 step 12x slower
# (30 s vs 2.4 s a step at 2 threads, load average 16).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402 (after the environment above)
import json
import math
import signal
import sys
import time
import traceback
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .data import MAZE_PATH, ExampleStream, encode_puzzles, load_task_data
from .devices import Device, choose_device
from .distributed import Distributed
from .errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, BadInput
from .evaluate import EvaluationAborted, evaluate, evaluate_internalisation, periodic_subset
from .refinement import probe_indices, trace_refinement
from .run_directory import RunDirectory, stdout_echo
from .train.act_carry import ExampleBatch

TASK_DATA_FILE = os.path.join("worker", "task-data.safetensors")


def finite_or_none(x: Optional[float]) -> Optional[float]:
    return x if x is not None and math.isfinite(x) else None


def metrics_of(m: Any) -> Dict[str, float]:
    """StepMetrics -> the step event's names."""
    return {"lmLoss": m.lm_loss, "qHaltLoss": m.q_halt_loss, "tokenAccuracy": m.token_accuracy, "exactAccuracy": m.exact_accuracy,
            "qHaltAccuracy": m.q_halt_accuracy, "meanHaltSteps": m.mean_halt_steps, "haltedRows": m.halted_rows, "gradNorm": m.grad_norm,
            "gradVarianceRunning": m.grad_variance_running, "lossScale": m.loss_scale, "qContinueLoss": m.q_continue_loss,
            **m.model_stats}


def validate_config(config: Dict[str, Any], schema_path: Optional[str], source: str) -> None:
    """The resolved config against the JSON Schema the build emits (the one source of truth for fields)."""
    if schema_path is None:
        return
    import jsonschema

    try:
        with open(schema_path, "r", encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{schema_path}: cannot read the config JSON Schema: {e}") from e
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  config.{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:10]]
        raise BadInput(f"{source}: the config does not match {schema_path}:\n" + "\n".join(lines))


class StopRequest:
    """The first SIGTERM / SIGINT asks for a graceful stop; the loop polls it at safe points."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        def handler(signum: int, frame: Any) -> None:
            self.requested = True

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


class TrainingRun:
    def __init__(self, run_dir: RunDirectory, file: Dict[str, Any], device: Device, dist: Distributed, stop: StopRequest,
                 resume: bool, checkpoint: Optional[str]):
        from .model.recursive_model import TaskShape
        from .train.curriculum import depth_schedule
        from .train.train_state import build_model, create_train_state

        self.dir = run_dir
        self.meta = file["metadata"]
        self.config = file["config"]
        self.device = device
        self.dist = dist
        self.stop = stop
        cfg = self.config
        self.train_cfg = cfg["train"]
        data_path = os.path.join(run_dir.path, TASK_DATA_FILE)
        self.data = load_task_data(data_path)
        if cfg["data"].get("side", self.data.side) != self.data.side:
            raise BadInput(f"{data_path}: side {self.data.side} does not match config.data.side {cfg['data']['side']}")
        B = self.train_cfg["batchSize"]
        if B % dist.world != 0:
            raise BadInput(f"config.train.batchSize {B} does not split across {dist.world} processes")
        self.local_batch = B // dist.world
        local_cfg = {**self.train_cfg, "batchSize": self.local_batch,
                     "microBatchSize": min(self.train_cfg.get("microBatchSize", B), self.local_batch)}
        self.local_train_cfg = local_cfg
        try:
            self.model = build_model(cfg["model"], TaskShape(self.data.vocab_size, self.data.seq_len), cfg["seed"], device.torch_device)
        except ValueError as e:
            raise BadInput(str(e)) from e
        self.state = create_train_state(self.model, local_cfg)
        dist.attach(self.model.parameters())
        # One master seed -> the streams, as trainingRun.ts: halting draws, training stream, probe stream.
        master = np.random.default_rng(cfg["seed"])
        seeds = [int(s) for s in master.integers(0, 2**31 - 1, size=3)]
        self.halt_rng = np.random.default_rng(seeds[0])
        self.stream = ExampleStream(self.data, seed=seeds[1])
        self.probe_stream = ExampleStream(self.data, seed=seeds[2])
        self.progress: Dict[str, Any] = {"wallSeconds": 0.0, "trainSeconds": 0.0, "flopsForwardTotal": 0.0,
                                         "flopsBackwardTotal": 0.0, "bestExactAccuracy": None}
        self.schedule = depth_schedule(self.model.depth, self.train_cfg["curriculum"])
        self.resumed = False
        if resume:
            latest = (None, checkpoint) if checkpoint else run_dir.latest_checkpoint()
            if latest is not None:
                self.restore(latest[1])
                self.resumed = True
        elif checkpoint:
            self.load_initial_weights(checkpoint)

    # checkpoints ------------------------------------------------------------------------------
    def restore(self, path: str) -> None:
        from .train.train_state import load_state_tensors
        from .weights import read_weights

        try:
            f = read_weights(path, expect_format="reclab-checkpoint")
        except (OSError, ValueError) as e:
            raise BadInput(str(e)) from e
        m = f.meta
        if m.get("kind") != "reclab-training-checkpoint" or m.get("engine") != "torch":
            raise BadInput(f"{path}: not a torch training checkpoint (kind {m.get('kind')!r}, engine {m.get('engine')!r})")
        arrays = self.dist.local_carry_rows(f.tensors, self.local_batch)
        try:
            load_state_tensors(self.state, arrays, int(m["step"]), int(m["emaUpdates"]), path)
        except ValueError as e:
            raise BadInput(str(e)) from e
        self.halt_rng = np.random.default_rng()
        self.halt_rng.bit_generator.state = m["haltRng"]
        self.stream = ExampleStream(self.data, state=m["stream"])
        self.probe_stream = ExampleStream(self.data, state=m["probeStream"])
        self.progress = dict(m["progress"])
        torch.set_rng_state(torch.tensor(m["torchRng"], dtype=torch.uint8))

    def load_initial_weights(self, path: str) -> None:
        from .weights import read_weights

        try:
            self.model.load_tfjs_parameters(read_weights(path).tensors, source=path)
        except (OSError, ValueError) as e:
            raise BadInput(str(e)) from e
        if self.state.ema is not None:
            for n, p in self.state.main_parameters().items():
                self.state.ema[n] = p.detach().clone()

    def checkpoint(self) -> None:
        from .train.train_state import state_tensors
        from .weights import write_weights

        tensors = self.dist.gather_carry_rows(state_tensors(self.state))
        if not self.dist.is_writer:
            return
        path = self.dir.checkpoint_path(self.state.step)
        rng_state = self.halt_rng.bit_generator.state
        meta = {"kind": "reclab-training-checkpoint", "engine": "torch", "step": self.state.step, "emaUpdates": self.state.ema_updates,
                "haltRng": {**rng_state, "state": {k: int(v) for k, v in rng_state["state"].items()}},
                "stream": self.stream.state(), "probeStream": self.probe_stream.state(), "progress": self.progress,
                "torchRng": torch.get_rng_state().tolist(),
                "model": {"width": self.model.width, "totalLen": self.model.total_len, "vocabSize": self.data.vocab_size, "seqLen": self.data.seq_len}}
        write_weights(path, tensors, kind="reclab-checkpoint", meta=meta)
        self.emit({"type": "checkpoint", "step": self.state.step, "path": self.dir.relative_checkpoint_path(self.state.step)})

    # events ---------------------------------------------------------------------------------
    def emit(self, e: Dict[str, Any]) -> None:
        if self.dist.is_writer:
            self.dir.append_event(e)

    def summary(self, status: str, final: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        s: Dict[str, Any] = {"runId": self.meta["runId"], "status": status, "steps": self.state.step, "wallSeconds": self.progress["wallSeconds"],
                             "backend": self.backend_name(), "flopsForwardTotal": self.progress["flopsForwardTotal"],
                             "flopsBackwardTotal": self.progress["flopsBackwardTotal"]}
        if final is not None:
            s["finalEval"] = {"exactAccuracy": final["exactAccuracy"], "tokenAccuracy": final["tokenAccuracy"],
                              "byBlanks": [{k: b[k] for k in ("blanks", "count", "exactAccuracy")} for b in final["byBlanks"]]}
        if self.progress["bestExactAccuracy"] is not None:
            s["bestExactAccuracy"] = self.progress["bestExactAccuracy"]
        return s

    def model_stats(self, m: Dict[str, float]) -> Dict[str, Any]:
        """The model's own per-step statistics (HRM: qContinueLoss) as the step event's `modelStats`."""
        stats = {name: m[name] for name in self.model.step_statistics if name in m and math.isfinite(m[name])}
        return {"modelStats": stats} if stats else {}

    def backend_name(self) -> str:
        d = self.device.description
        name = f"torch-{d['type']}"
        return name + (f"-x{self.dist.world}" if self.dist.world > 1 else "")

    # evaluation and snapshots -----------------------------------------------------------------
    def model_functions(self, model: Any):
        depth = model.depth

        def start(tokens: torch.Tensor):
            tokens = tokens.to(self.device.torch_device)
            rows = tokens.shape[0]
            return (*model.initial_states(rows), model.input_embedding(tokens))

        def step(z_h: torch.Tensor, z_l: torch.Tensor, x: torch.Tensor):
            with self.device.autocast():
                for _ in range(depth.h_cycles):
                    z_h, z_l = model.cycle(z_h, z_l, x, depth.l_cycles)
                logits, q_halt, q_continue = model.heads(z_h)
            return (z_h, z_l, logits, q_halt, q_continue) if model.uses_q_continue else (z_h, z_l, logits, q_halt)

        def h_cycle(z_h: torch.Tensor, z_l: torch.Tensor, x: torch.Tensor):
            with self.device.autocast():
                return model.cycle(z_h, z_l, x, depth.l_cycles)

        def heads(z_h: torch.Tensor):
            with self.device.autocast():
                logits, q_halt, _ = model.heads(z_h)
            return logits, q_halt

        return start, step, h_cycle, heads

    def run_eval(self, scope: str) -> Optional[Dict[str, Any]]:
        """Rank 0 evaluates (the others wait); a stop request aborts it between batches (returns None)."""
        from .train.train_state import evaluation_weights

        t0 = time.perf_counter()
        result = None
        aborted = False
        if self.dist.is_writer:
            test = self.final_test if scope == "final" else self.periodic_test
            try:
                with evaluation_weights(self.state) as model:
                    start, step, _, _ = self.model_functions(model)
                    abort = (lambda: self.stop.requested) if scope == "periodic" else None
                    result = evaluate(start, step, test, self.train_cfg["haltMaxSteps"], self.config["eval"]["batchSize"],
                                      should_abort=abort, path_token=MAZE_PATH if self.data.task == "maze" else None)
                    caps = (self.config["eval"].get("internalisation") or {}).get("iterations")
                    if caps and hasattr(model, "capped_solver"):
                        result["internalisation"] = evaluate_internalisation(model, start, step, test, self.train_cfg["haltMaxSteps"],
                                                                             self.config["eval"]["batchSize"], list(caps), result, should_abort=abort)
            except EvaluationAborted:
                aborted = True
        if self.dist.agree_any(aborted):
            return None
        variance = self.gradient_variance()
        seconds = time.perf_counter() - t0
        self.progress["wallSeconds"] += seconds
        if result is None:
            return None
        self.progress["bestExactAccuracy"] = max(self.progress["bestExactAccuracy"] or 0.0, result["exactAccuracy"])
        depth = self.model.depth
        e = {"type": "eval", "step": self.state.step, "scope": scope, "puzzles": result["puzzles"], "exactAccuracy": result["exactAccuracy"],
             "tokenAccuracy": result["tokenAccuracy"], "qHaltAccuracy": result["qHaltAccuracy"], "byBlanks": result["byBlanks"], "seconds": seconds,
             "hCycles": depth.h_cycles, "lCycles": depth.l_cycles, "earlyExit": result["earlyExit"],
             "gradientVariance": finite_or_none(variance), "trainSeconds": self.progress["trainSeconds"],
             "flopsForwardTotal": self.progress["flopsForwardTotal"], "flopsBackwardTotal": self.progress["flopsBackwardTotal"]}
        if self.data.task == "maze":
            e.update({"difficulty": "path length", "path": result["path"]})
        if "internalisation" in result:
            e["internalisation"] = result["internalisation"]
        self.emit(e)
        return e

    def gradient_variance(self) -> Optional[float]:
        """V over groups of the next probe batch at fixed parameters (every rank draws it; rank 0 computes)."""
        groups = self.config["eval"]["gradientVarianceGroups"]
        if groups <= 0:
            return None
        batch = self.dist.local_rows(self.probe_stream.next(self.train_cfg["batchSize"]), self.local_batch)
        if not self.dist.is_writer:
            return None
        from .train.train_step import gradient_variance

        _, depth = self.schedule.at(max(1, self.state.step), self.train_cfg["steps"])
        with self.dist.no_gradient_sync():
            return gradient_variance(self.state, self.to_device(batch), self.local_train_cfg, depth, groups, autocast=self.device.autocast_dtype)

    def snapshot(self) -> None:
        from .train.train_state import evaluation_weights

        ref = self.config["refinement"]
        if ref["everySteps"] == 0 or not self.dist.is_writer:
            return
        idx = probe_indices(list(self.data.test_blanks), ref["probePuzzles"])
        if not idx:
            return
        maze = self.data.task == "maze"
        side = int(round(self.data.seq_len ** 0.5)) if maze else self.data.side
        if maze and side * side != self.data.seq_len:
            return  # the view draws square mazes only (every maze data source is square)
        t0 = time.perf_counter()
        with evaluation_weights(self.state) as model:
            start, _, h_cycle, heads = self.model_functions(model)
            trajectory = trace_refinement(start, h_cycle, heads, self.data.test_questions[idx], self.data.test_solutions[idx], side,
                                          self.train_cfg["haltMaxSteps"], model.depth.h_cycles, ref["perCycle"], self.train_cfg["lossType"],
                                          self.data.task, [int(self.data.test_blanks[i]) for i in idx])
        self.progress["wallSeconds"] += time.perf_counter() - t0
        self.emit({"type": "refinement", "step": self.state.step, "trajectory": trajectory})

    def to_device(self, batch: ExampleBatch) -> ExampleBatch:
        dev = self.device.torch_device
        return ExampleBatch(batch.tokens.to(dev), batch.labels.to(dev), batch.blanks.to(dev))

    # the loop ---------------------------------------------------------------------------------
    def run(self) -> int:
        from .train.flops import supervision_step_flops
        from .train.lr_schedule import learning_rate
        from .train.train_step import train_step

        cfg, train = self.config, self.train_cfg
        parameter_count = sum(p.numel() for _, p in self.model.named_tfjs_parameters())
        self.emit({"type": "run_start", "runId": self.meta["runId"], "config": cfg, "backend": self.backend_name(), "startStep": self.state.step,
                   "totalSteps": train["steps"], "resumed": self.resumed, "parameterCount": parameter_count})
        d = self.data
        self.final_test = encode_puzzles(d.test_questions, d.test_solutions, d.test_blanks, d.token_offset)
        keep = periodic_subset(torch.from_numpy(d.test_blanks), cfg["eval"]["puzzlesPerBlank"]).numpy()
        self.periodic_test = encode_puzzles(d.test_questions[keep], d.test_solutions[keep], d.test_blanks[keep], d.token_offset)
        halt_rng = self.dist.rank_rows_rng(self.halt_rng)
        B = train["batchSize"]
        stage_shown = -1
        while self.state.step < train["steps"]:
            step = self.state.step + 1
            stage, depth = self.schedule.at(step, train["steps"])
            if stage != stage_shown:
                self.emit({"type": "stage", "step": step, "stage": stage, "stages": len(self.schedule.stages), "hCycles": depth.h_cycles,
                           "lCycles": depth.l_cycles, "progress": (step - 1) / train["steps"]})
                stage_shown = stage
            flops = supervision_step_flops(self.model, depth, B, True)
            lr = learning_rate(step, train["lr"], train["lrWarmupSteps"], train["steps"], train["lrMinRatio"])
            t0 = time.perf_counter()
            batch = self.dist.local_rows(self.stream.next(B), self.local_batch)
            m = self.dist.reduce_metrics(metrics_of(
                train_step(self.state, self.to_device(batch), self.local_train_cfg, depth, lr, halt_rng, autocast=self.device.autocast_dtype)))
            seconds = time.perf_counter() - t0
            self.progress["wallSeconds"] += seconds
            self.progress["trainSeconds"] += seconds
            self.progress["flopsForwardTotal"] += flops.forward
            self.progress["flopsBackwardTotal"] += flops.backward
            if not (math.isfinite(m["lmLoss"]) and math.isfinite(m["qHaltLoss"])):
                raise Diverged(f"training diverged: non-finite loss at step {step} (lm loss {m['lmLoss']}, q-halt loss {m['qHaltLoss']}); "
                               f"the last checkpoint before it is intact", step)
            self.emit({"type": "step", "step": step, "lmLoss": m["lmLoss"], "qHaltLoss": m["qHaltLoss"],
                       "tokenAccuracy": finite_or_none(m["tokenAccuracy"]), "exactAccuracy": finite_or_none(m["exactAccuracy"]),
                       "qHaltAccuracy": finite_or_none(m["qHaltAccuracy"]), "meanHaltSteps": finite_or_none(m["meanHaltSteps"]),
                       "haltedRows": int(m["haltedRows"]), "lr": lr, "gradNorm": m["gradNorm"], "samplesPerSecond": B / seconds,
                       "flopsForward": flops.forward, "flopsBackward": flops.backward, "hCycles": depth.h_cycles, "lCycles": depth.l_cycles,
                       "stage": stage, "stepSeconds": seconds, "gradVarianceRunning": finite_or_none(m["gradVarianceRunning"]),
                       "lossScale": m["lossScale"], **self.model_stats(m)})
            last = self.state.step == train["steps"]
            every = lambda n: n > 0 and self.state.step % n == 0  # noqa: E731
            if not last and every(cfg["eval"]["everySteps"]):
                self.run_eval("periodic")
            if not last and every(cfg["refinement"]["everySteps"]) and not self.stop.requested:
                self.snapshot()
            if not last and every(cfg["checkpointEverySteps"]):
                self.checkpoint()
            if not last and self.dist.agree_any(self.stop.requested):
                if not every(cfg["checkpointEverySteps"]):
                    self.checkpoint()
                return self.finish("stopped", None)
        final = self.run_eval("final")
        self.snapshot()
        self.checkpoint()
        return self.finish("completed", final)

    def finish(self, status: str, final: Optional[Dict[str, Any]]) -> int:
        self.emit({"type": "done", "step": self.state.step, "status": status, "wallSeconds": self.progress["wallSeconds"]})
        if self.dist.is_writer:
            self.dir.write_summary(self.summary(status, final))
        return EXIT_OK


class Diverged(Exception):
    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m reclab.worker", description="The torch engine's training worker (started by `reclab train --engine torch`).")
    p.add_argument("--run-dir", required=True, help="the run directory Node created (config.json, worker/task-data.safetensors)")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint (or --checkpoint)")
    p.add_argument("--checkpoint", help="with --resume: the checkpoint to continue from; without: initial weights (param/*)")
    p.add_argument("--schema", help="the config JSON Schema (dist/schema/reclab-config.schema.json) to validate config.json against")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (default auto: CUDA, then MPS, then the CPU)")
    p.add_argument("--dtype", default="auto", help="auto | bfloat16 | float32 (default: bfloat16 autocast on CUDA, float32 elsewhere)")
    p.add_argument("--threads", type=int, help="CPU threads (default: the cores this process may use)")

    def error(message: str) -> None:
        p.print_usage(sys.stderr)
        sys.stderr.write(f"{p.prog}: {message}\n")
        sys.exit(EXIT_BAD_INPUT)

    p.error = error  # type: ignore[method-assign]  # bad usage is exit 2 (argparse's own is 2 as well)
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stop = StopRequest()
    stop.install()
    dist = Distributed.from_environment()
    run: Optional[TrainingRun] = None
    run_dir: Optional[RunDirectory] = None
    try:
        run_dir = RunDirectory.open(args.run_dir, echo=stdout_echo if dist.is_writer else None)
        file = run_dir.read_config_file()
        validate_config(file["config"], args.schema, run_dir.file("config.json"))
        device = choose_device(args.device, args.dtype, dist.local_rank, args.threads)
        dist.init(device)
        run = TrainingRun(run_dir, file, device, dist, stop, args.resume, args.checkpoint)
    except (BadInput, FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"reclab worker: {e}\n")
        dist.close()
        return EXIT_BAD_INPUT
    try:
        if dist.is_writer:
            run_dir.update_metadata(engine="torch", device={**device.description, "processes": dist.world})
        return run.run()
    except Exception as e:  # noqa: BLE001 - every failure during the run ends as an error event + failed summary
        message = str(e) if isinstance(e, Diverged) else f"{type(e).__name__}: {e}"
        if not isinstance(e, Diverged):
            traceback.print_exc(file=sys.stderr)
        if dist.is_writer:
            try:
                run.emit({"type": "error", "message": message, "step": run.state.step})
                run_dir.write_summary(run.summary("failed", None))
            except Exception:  # noqa: BLE001 - the run directory itself may be the problem
                pass
        sys.stderr.write(f"reclab worker: {message}\n")
        return EXIT_FAILED
    finally:
        dist.close()


if __name__ == "__main__":
    sys.exit(main())
