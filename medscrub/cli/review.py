"""``medscrub review OUT``: write the review page of a run's output."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from medscrub.review import ReviewPage, write_review

__all__ = ["add_parser", "describe", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser(
        "review", help="write an HTML page showing every cleaned output",
        description="One self-contained HTML file (no network) with a thumbnail of every "
        "output, the redacted regions outlined, the actions taken, and the files not written "
        "at the top. It holds no original pixels unless --originals is given.")
    parser.add_argument("output", metavar="OUT", help="the output folder of a redact run")
    parser.add_argument("-o", "--page", metavar="FILE",
                        help="the HTML file to write (default: OUT.review.html beside OUT)")
    parser.add_argument("--audit", metavar="FILE",
                        help="the run's audit log (default: OUT.audit.jsonl beside OUT)")
    parser.add_argument("--originals", metavar="IN",
                        help="the run's input: add 'before' thumbnails (the page then holds "
                        "PHI and says so)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes making thumbnails (default: the number of cores)")
    parser.set_defaults(run=run)


def describe(page: ReviewPage) -> str:
    """One line saying where the page is and what it holds."""
    line = f"review page: {page.path} ({page.cards} output(s)"
    if page.problems:
        line += f", {page.problems} not written"
    if page.not_shown:
        line += f", {page.not_shown} could not be shown"
    line += ")"
    if page.originals:
        line += "; it shows the original images: it holds PHI, keep it inside the hospital"
    return line


def run(args: argparse.Namespace) -> int:
    """Write the page; 1 if some output could not be shown."""
    out = Path(args.output)
    audit = Path(args.audit) if args.audit else out.with_name(out.name + ".audit.jsonl")
    page_path = Path(args.page) if args.page else out.with_name(out.name + ".review.html")
    page = write_review(audit, out, page_path, originals=args.originals,
                        jobs=max(1, args.jobs))
    print(describe(page))
    return 1 if page.not_shown else 0
