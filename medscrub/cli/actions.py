"""``medscrub actions``: print the action every Table E.1-1 row gets, and what a profile
that keeps only some attributes keeps, with why each is safe."""

from __future__ import annotations

import argparse
from typing import Any

from pydicom.datadict import keyword_for_tag

from medscrub.cli.options import add_profile_arguments, profile_from_args
from medscrub.dicom.actions import describe_actions

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser("actions", help="list the action for each attribute")
    add_profile_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per row: tag, action, attribute name; then the kept groups."""
    profile = profile_from_args(args)
    for tag, name, action in describe_actions(profile):
        print(f"{tag:<22} {action}  {' '.join(name.split())}")
    if profile.keep_only:
        print(f"\nProfile {profile.name} keeps only these attributes as they are; every other "
              "attribute the table keeps, or does not list, is removed (X).")
        for why, tags in profile.keep_only:
            print(f"\nKept: {why}.")
            print("  " + ", ".join(keyword_for_tag(tag) for tag in tags))
    return 0
