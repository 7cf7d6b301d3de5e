"""Options shared by the commands that choose a profile or read PHI terms."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from medscrub.errors import ProfileError
from medscrub.profile import (
    DEFAULT_PRESET,
    OPTIONS,
    PIXEL_OPTIONS,
    PRESETS,
    Profile,
    load_recipe,
)

__all__ = ["add_profile_arguments", "profile_from_args", "read_phi_terms"]


def add_profile_arguments(parser: argparse.ArgumentParser, default: str = DEFAULT_PRESET) -> None:
    """Add --profile (starting from `default`), --recipe, --option, --no-pixels,
    --text-mode and --lossy."""
    what = {DEFAULT_PRESET: "the Basic Profile plus burned-in text and faces",
            "share": "all burned-in text, dates removed, outputs renamed"}.get(default, "")
    parser.add_argument("--profile", choices=PRESETS, default=default,
                        help=f"preset to start from (default: {default}"
                        + (f": {what})" if what else ")"))
    parser.add_argument("--recipe", metavar="FILE",
                        help="TOML or YAML recipe: options and per-tag overrides")
    parser.add_argument("--option", action="append", default=[], choices=OPTIONS,
                        metavar="OPTION", help="add a PS3.15 option (repeatable): "
                        + ", ".join(OPTIONS))
    parser.add_argument("--no-pixels", action="store_true",
                        help="leave pixels alone: drop Clean Pixel Data and Clean Recognizable "
                        "Visual Features (each output then says what was not checked)")
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
    if args.no_pixels:
        profile = replace(profile, options=profile.options - PIXEL_OPTIONS)
    if args.lossy:
        profile = replace(profile, lossy=args.lossy)
    return replace(profile, text_mode=args.text_mode) if args.text_mode else profile


def read_phi_terms(path: str | None) -> list[str]:
    """The lines of a --phi-terms file (none without one)."""
    if not path:
        return []
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read ({exc.__class__.__name__})") from None
