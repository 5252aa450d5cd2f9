"""User-facing errors. Each carries one plain sentence that the UI and CLI show as is."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error the user may see. The message is one plain sentence."""


class LoadError(StudioError):
    """A file could not be opened or read at all."""


class StepError(StudioError):
    """A step's parameters are wrong for this data (unknown column, bad expression...)."""


class RecipeError(StudioError):
    """A recipe file is malformed or names an unknown step."""


class WriteError(StudioError):
    """An output could not be written (exists, no space, not writable)."""


class MissingDependency(StudioError):
    """An optional package is needed for this feature."""

    def __init__(self, package: str, feature: str) -> None:
        super().__init__(f"{feature} needs the '{package}' package: pip install {package}")
        self.package = package


def require(module: str, feature: str, package: str | None = None):  # noqa: ANN201
    """Import an optional module or fail with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(package or module, feature) from exc
