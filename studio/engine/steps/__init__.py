"""Step families. Each module registers its steps; `load_all_steps()` imports them all."""

from studio.engine.steps.base import ID, REGISTRY, Step, get_step_class, load_all_steps, register

__all__ = ["ID", "REGISTRY", "Step", "get_step_class", "load_all_steps", "register"]
