"""What the DEQ model tests share (test_trm_deq, test_attractor): the tiny training settings, the
task, and the check of a taped gradient against central finite differences of a loss function."""
from typing import Callable, Sequence, Tuple

import torch

from reclab.model.recursive_model import TaskShape

TRAIN = dict(steps=10, batchSize=4, microBatchSize=2, haltMaxSteps=3, haltExplorationProb=0.0, optimizer="adamw",
             lr=1e-3, lrWarmupSteps=0, lrMinRatio=1, beta1=0.9, beta2=0.95, weightDecay=0.1, adamEpsilon=1e-8,
             puzzleEmbLr=1e-2, puzzleEmbWeightDecay=0.1, lossType="softmax", qLossWeight=0.5,
             ema=dict(enabled=False, rate=0.999, warmup=True), curriculum=dict(enabled=False, boundaries=[]),
             hsw=dict(mode="off", decay=0.7))
TASK = TaskShape(6, 4)


def assert_central_differences(model: torch.nn.Module, probes: Sequence[Tuple[str, int]], grads: Sequence[torch.Tensor],
                               loss: Callable[[], torch.Tensor], rtol: float, atol: float, h: float = 1e-6, what: str = "taped") -> None:
    """Each probed entry name[index] of the model's parameters: the given gradient against
    (loss(θ + h) − loss(θ − h)) / 2h, the parameter restored after."""
    params = dict(model.named_tfjs_parameters())
    with torch.no_grad():
        for (name, index), grad in zip(probes, grads):
            entry = params[name].view(-1)
            entry[index] += h
            up = loss()
            entry[index] -= 2 * h
            down = loss()
            entry[index] += h
            fd = float((up - down) / (2 * h))
            g = float(grad.view(-1)[index])
            assert abs(fd - g) <= rtol * abs(fd) + atol, f"{name}[{index}]: {what} {g} vs finite difference {fd}"
