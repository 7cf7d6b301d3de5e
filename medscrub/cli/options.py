"""Options shared by the commands that choose a profile."""

from __future__ import annotations

import argparse
from dataclasses import replace

from medscrub.profile import OPTIONS, PRESETS, Profile, load_recipe

__all__ = ["add_profile_arguments", "profile_from_args"]


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --profile, --recipe and --option."""
    parser.add_argument("--profile", choices=PRESETS, default="basic",
                        help="preset to start from (default: basic)")
    parser.add_argument("--recipe", metavar="FILE",
                        help="TOML or YAML recipe: options and per-tag overrides")
    parser.add_argument("--option", action="append", default=[], choices=OPTIONS,
                        metavar="OPTION", help="add a PS3.15 option (repeatable): "
                        + ", ".join(OPTIONS))
    parser.add_argument("--text-mode", choices=("phi", "all-text"),
                        help="with Clean Pixel Data: redact identifying text only (phi, the "
                        "default) or every text found (all-text)")
    parser.add_argument("--lossy", choices=("uncompressed", "recompress"),
                        help="lossy originals whose pixels change: write them uncompressed "
                        "(default) or re-encode them lossy (JPEG baseline)")


def profile_from_args(args: argparse.Namespace) -> Profile:
    """The profile the arguments describe (recipe over preset, options added)."""
    profile = load_recipe(args.recipe) if args.recipe else Profile.preset(args.profile)
    if args.option:
        profile = profile.with_options(args.option)
    if args.lossy:
        profile = replace(profile, lossy=args.lossy)
    return replace(profile, text_mode=args.text_mode) if args.text_mode else profile
