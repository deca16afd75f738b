"""What runs for a target of the spec, found through its entry (no code branches on a target's
name): its training run."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from spec import target as spec_target


def trainer(target: str) -> Callable[..., Any]:
    """The training run of `target`, `(engine, stage, start, last) -> TrainResult`: evaluate
    walk-forward, fit, log to MLflow and register the challenger (`Target.trained_by`)."""
    module, _, function = spec_target(target).trained_by.partition(":")
    run: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return run
