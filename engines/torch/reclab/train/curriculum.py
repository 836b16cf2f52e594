"""CGAR's Progressive Depth Curriculum (reference.md §2.1), as trainer/train/depthCurriculum.ts:
training runs at a shallower (T, n) early on and at the full depth for the last stage. Progress
of step s (1-based) of N is (s − 1) / N. Evaluation always runs at the model's full depth."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Mapping, Sequence, Tuple

from ..model.trm import Depth


def derived_stages(base: Depth) -> List[Depth]:
    """(1,2) -> (2,4) -> (3,6) for base (3,6), as the reference derives them."""
    T, n = base.h_cycles, base.l_cycles
    s1 = Depth(max(1, math.ceil(T / 3)), max(2, math.ceil(n / 3)))
    # Clamped to the base depth, as the reference: min(base, .) (trainer/train/depthCurriculum.ts too).
    s2 = Depth(min(T, max(s1.h_cycles, math.ceil(2 * T / 3))), min(n, max(s1.l_cycles, math.ceil(2 * n / 3))))
    return [s1, s2, Depth(T, n)]


def curriculum_stages(base: Depth, cfg: Mapping[str, Any]) -> List[Depth]:
    stages = [Depth(h, l) for h, l in cfg["stages"]] if cfg.get("stages") else derived_stages(base)
    bounds = cfg["boundaries"]
    if len(stages) != len(bounds) + 1:
        raise ValueError(f"train.curriculum: {len(stages)} stages need {len(stages) - 1} boundaries, got {len(bounds)}")
    if any(not bounds[i] > bounds[i - 1] for i in range(1, len(bounds))):
        raise ValueError(f"train.curriculum.boundaries: must increase, got {list(bounds)}")
    return stages


def stage_index_at(step: int, total_steps: int, boundaries: Sequence[float]) -> int:
    progress = (step - 1) / total_steps
    stage = 0
    while stage < len(boundaries) and progress >= boundaries[stage]:
        stage += 1
    return stage


@dataclass
class DepthSchedule:
    stages: List[Depth]
    boundaries: Sequence[float]

    def at(self, step: int, total_steps: int) -> Tuple[int, Depth]:
        """(stage, depth) of training step `step` (1-based); the full depth when off."""
        stage = stage_index_at(step, total_steps, self.boundaries)
        return stage, self.stages[stage]


def depth_schedule(base: Depth, cfg: Mapping[str, Any]) -> DepthSchedule:
    if not cfg["enabled"]:
        return DepthSchedule([base], [])
    return DepthSchedule(curriculum_stages(base, cfg), list(cfg["boundaries"]))
