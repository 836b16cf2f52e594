"""The training step and its parts: ACT carry, losses, optimizers, EMA, schedules, CGAR."""
