"""``medscrub detectors``: which detectors are available, and what is missing."""

from __future__ import annotations

import argparse
from typing import Any

from medscrub.detectors import DEFAULT_DETECTORS, ROLES, detector_roles, detector_status

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser("detectors", help="list detectors and whether they can run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per detector (what it finds, whether it runs by default); 1 if any
    is unavailable."""
    status = detector_status()
    roles = detector_roles()
    for name, available, reason in status:
        finds = [ROLES[role] + (" by default" if name in DEFAULT_DETECTORS[role] else "")
                 for role in roles.get(name, ())]
        what = f" (finds {', '.join(finds)})" if finds else ""
        print(f"{name}: available{what}" if available
              else f"{name}: unavailable \u2014 {reason}")
    return 0 if all(available for _, available, _ in status) else 1
