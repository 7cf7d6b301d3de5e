"""``medscrub scan IN``: a dry run that reports which identifiers each file carries."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from medscrub.cli.options import read_phi_terms
from medscrub.files import atomic_write
from medscrub.scan import KINDS, FileScan, ScanReport, scan_path

__all__ = ["add_parser", "read_phi_terms", "run"]


def add_parser(commands: Any) -> None:
    """Register the sub-command."""
    parser = commands.add_parser(
        "scan", help="report the identifiers each file carries (writes nothing)",
        description="Report, for every file, which kinds of identifier it carries and where "
        "(keywords, tags, boxes, path positions; never values). Exit status: 0 nothing "
        "found, 1 identifiers found or a file or check could not be scanned, 2 usage error.")
    parser.add_argument("input", metavar="IN", help="a file, or a folder walked recursively")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the report as JSON to FILE ('-': stdout, no table)")
    parser.add_argument("--details", action="store_true",
                        help="list every finding (keyword, tag, box) under its file")
    parser.add_argument("--no-pixels", action="store_true",
                        help="skip the detectors (burned-in text, faces): headers and names only")
    parser.add_argument("--phi-terms", metavar="FILE",
                        help="extra identifying strings to find in burned-in text, one a line")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: the number of cores)")
    parser.set_defaults(run=run)


def _counts(scan: FileScan) -> str:
    totals: dict[str, int] = defaultdict(int)
    for finding in scan.findings:
        totals[finding.kind] += finding.count
    return ", ".join(f"{kind} {totals[kind]}" for kind in KINDS if kind in totals)


def _detail_lines(scan: FileScan) -> list[str]:
    lines = []
    for f in scan.findings:
        box = f" box {list(f.box)}" if f.box is not None else ""
        count = f" x{f.count}" if f.count > 1 else ""
        detail = f" ({f.detail})" if f.detail else ""
        lines.append(f"    {f.kind:<14} {f.where}{box}{count}{detail}")
    return lines


def format_report(report: ScanReport, details: bool = False) -> str:
    """The report as a terminal table: one line per file, then files per kind."""
    width = min(60, max([len(s.path) for s in report.files] + [4]))
    lines = [f"{'FILE':<{width}}  {'KIND':<12}  FOUND"]
    for scan in report.files:
        found = _counts(scan) or "-"
        if scan.error:
            found += f"  [not fully scanned: {scan.error}]"
        lines.append(f"{scan.path:<{width}}  {scan.kind:<12}  {found}")
        if details:
            lines += _detail_lines(scan)
    lines += ["", f"{'KIND':<16}  {'FILES':>5}  MEANING"]
    for kind, files in report.summary().items():
        lines.append(f"{kind:<16}  {files:>5}  {KINDS[kind]}")
    with_findings = sum(s.found for s in report.files)
    lines += ["", f"medscrub scan: {len(report.files)} files, {with_findings} with identifiers, "
              f"{len(report.incomplete)} not fully scanned, in {report.seconds:.2f} s"]
    if not report.pixels:
        lines.append("  note: pixels not checked (--no-pixels): burned-in text and faces unknown")
    lines += [f"  note: not run: {why}" for why in report.unavailable]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Scan IN; print the table (and/or JSON); 0 only if nothing was found."""
    terms = read_phi_terms(args.phi_terms)
    report = scan_path(args.input, pixels=not args.no_pixels, phi_terms=terms,
                       jobs=max(1, args.jobs))
    if args.json:
        text = json.dumps(report.to_dict(), indent=1) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            atomic_write(Path(args.json), text.encode("utf-8"))
    if args.json != "-":
        print(format_report(report, args.details))
    return 1 if report.found or not report.complete else 0
