"""Loaders and writers. `load_dataset` opens any supported input; `write_frame` writes atomically."""

from studio.engine.io.loaders import load_dataset
from studio.engine.io.writers import atomic_path, write_frame

__all__ = ["atomic_path", "load_dataset", "write_frame"]
