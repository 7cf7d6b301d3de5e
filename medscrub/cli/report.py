"""``medscrub report AUDIT.jsonl``: what a run did, from its audit log."""

from __future__ import annotations

import argparse
import json
from typing import Any

from medscrub.report import ACTION_NAMES, AuditSummary, summarize

__all__ = ["add_parser", "format_summary", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser(
        "report", help="summarize an audit log",
        description="Files by outcome, header actions by kind, detectors that fired, files "
        "not written and why, throughput. Exit status: 0 every file clean or skipped, 1 some "
        "file failed or was quarantined (or a run did not finish), 2 unreadable log.")
    parser.add_argument("audit", metavar="AUDIT", help="an audit log (JSON Lines)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def _block(title: str, counts: dict[str, int], names: dict[str, str] | None = None) -> list[str]:
    if not counts:
        return []
    lines = [title]
    for key, n in counts.items():
        label = f"{key} ({names[key]})" if names and key in names else key
        lines.append(f"  {n:>8}  {label}")
    return lines


def format_summary(summary: AuditSummary) -> str:
    """The summary as readable text."""
    runs = f"{summary.runs} run(s)" + ("" if summary.complete else ", the last did not finish")
    lines = [f"{summary.files} file(s) in {runs}"]
    lines += _block("outcomes", summary.outcomes)
    lines += _block("kinds", summary.kinds)
    lines += _block("header actions", summary.actions, ACTION_NAMES)
    lines += _block("regions redacted", summary.regions)
    lines += _block("detectors that fired (files)", summary.detectors)
    lines += _block("warnings (files)", summary.warnings)
    lines += _block("skipped (files)", summary.skipped)
    if summary.problems:
        lines.append(f"not written ({len(summary.problems)})")
        lines += [f"  {p.outcome.upper()} {p.input}: {p.reason} [stage {p.stage}]"
                  for p in summary.problems]
    lines.append(f"throughput: {summary.files} file(s) in {summary.seconds:.2f} s "
                 f"({summary.files_per_second:.1f} files/s; {summary.file_seconds:.2f} s of "
                 "per-file work)")
    if summary.unreadable:
        lines.append(f"note: {summary.unreadable} line(s) were not audit records")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the summary; 1 if the log records files not written or an unfinished run."""
    summary = summarize(args.audit)
    print(json.dumps(summary.to_dict(), indent=1) if args.json else format_summary(summary))
    return 0 if summary.complete and not summary.problems else 1
