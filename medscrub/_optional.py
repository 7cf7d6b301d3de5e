"""Import optional dependencies with errors that name the missing extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from medscrub.errors import MissingDependencyError

__all__ = ["import_optional"]


def import_optional(module: str, extra: str) -> ModuleType:
    """Import `module` or raise :class:`MissingDependencyError` naming `extra`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{module} is needed for this feature: pip install 'medscrub[{extra}]'"
        ) from None
