"""Learning rate (reference.md §1.8), as trainer/train/lrSchedule.ts: linear warm-up from 0,
then cosine down to min_ratio·lr. `step` counts from 1 (the reference increments first)."""
import math


def learning_rate(step: int, base: float, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    if step < warmup_steps:
        return base * step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))))
