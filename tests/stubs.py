"""A third-party detector's shape for tests: always available, with the answer a test gives."""

from __future__ import annotations

from typing import ClassVar


class StubDetector:
    """Subclasses set ``name``, ``finds`` and ``detect``."""

    name: ClassVar[str]
    finds: ClassVar[frozenset[str]]

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""
