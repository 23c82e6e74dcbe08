"""The central scheduler (see engine.py): index, timers, dispatcher, work pool."""

from kron.engine.engine import Engine

__all__ = ["Engine"]
