"""The review page: one self-contained HTML file to look at every output before it leaves.

:func:`write_review` reads a run's audit log and its output folder and writes
a single HTML file with everything inline (thumbnails as ``data:`` URIs, CSS
and script in the page, a Content Security Policy that forbids any fetch). At
the top it lists the files that were not written (quarantined, failed,
skipped) with their reasons, the warnings, and any output that could not be
shown. Then one card per output: a thumbnail of the cleaned image (the
representative frame of a multi-frame image, with the frame count) with every
redacted region outlined and labelled by kind, and the header actions taken.
Cards are drawn a page at a time by the page's own script, so thousands of
files stay usable.

By default the page holds no original pixels. With ``originals`` it also shows
a "before" thumbnail taken from the input, and says at the top, plainly, that
it contains PHI.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from medscrub._version import __version__
from medscrub.errors import MedscrubError, UnsupportedInputError
from medscrub.files import FileKind, atomic_write, classify
from medscrub.render import middle_frame, render_dicom, render_photo
from medscrub.report import ACTION_NAMES, AuditSummary, read_audit, summarize
from medscrub.workers import ordered_map

__all__ = ["ReviewPage", "Thumbnail", "check_page_path", "thumbnail", "write_review"]

#: Longest side of a thumbnail, pixels.
THUMBNAIL_SIZE = 256
_JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A small picture of one image and what it stands for.

    Attributes
    ----------
    uri : str
        A ``data:image/jpeg;base64,...`` URI.
    rows, columns : int
        Size of the full image (region boxes are in these pixels).
    frame : int
        The frame shown (0-based).
    frames : int
        Frames in the image.
    """

    uri: str
    rows: int
    columns: int
    frame: int
    frames: int


def _jpeg_uri(pixels: np.ndarray[Any, Any]) -> str:
    image = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=_JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail(data: bytes, path: Path, frame: int | None = None) -> Thumbnail:
    """A thumbnail of a DICOM image or photo (`frame`, else the representative one).

    Raises
    ------
    UnsupportedInputError
        If the file holds no image that can be shown.
    """
    kind = classify(path, data[:132])
    chosen: int | Literal["middle"] = "middle" if frame is None else frame
    if kind is FileKind.DICOM:
        rendered = render_dicom(data, frame=chosen)
    elif kind is FileKind.PHOTO:
        rendered = render_photo(data, frame=chosen)
    else:
        raise UnsupportedInputError("not an image")
    pixels = rendered.frames[0]
    return Thumbnail(_jpeg_uri(pixels), pixels.shape[0], pixels.shape[1],
                     rendered.indices[0], rendered.total)


def _on_frame(region: dict[str, Any], frame: int | None) -> bool:
    """Whether a region of the audit log covers `frame` (None: no frame is shown)."""
    frames = region.get("frames")
    if frame is None or not frames:
        return frame is not None
    start, stop = frames
    return (start or 0) <= frame < (stop if stop is not None else frame + 1)


def _output_thumbnail(path: Path) -> Thumbnail:
    """The thumbnail of an output file, or of the middle picture of an every-frame export."""
    pictures = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else []
    if not pictures:
        return thumbnail(path.read_bytes(), path)
    middle = middle_frame(len(pictures))
    shown = thumbnail(pictures[middle].read_bytes(), pictures[middle])
    return replace(shown, frame=middle, frames=len(pictures))


def _why(exc: Exception) -> str:
    reason = exc.strerror if isinstance(exc, OSError) else str(exc)
    return reason or exc.__class__.__name__


def _card(record: dict[str, Any], output: Path, originals: Path | None) -> dict[str, Any]:
    """Everything one output's card shows (a plain dict, ready for JSON)."""
    name = str(record["output"])
    card: dict[str, Any] = {
        "name": name,
        "actions": ", ".join(f"{n} {ACTION_NAMES.get(code, code)}"
                             for code, n in sorted((record.get("actions") or {}).items())),
        "warnings": list(record.get("warnings") or []),
        "error": "",
    }
    frame = None
    try:
        after = _output_thumbnail(output / name)
        frame = after.frame
        card.update(uri=after.uri, rows=after.rows, columns=after.columns,
                    frame=after.frame, frames=after.frames)
    except (OSError, MedscrubError) as exc:
        card["error"] = f"cannot be shown ({_why(exc)}): open it by hand"
    if originals is not None and frame is not None:
        source = originals / str(record["input"])
        try:
            card["before"] = thumbnail(source.read_bytes(), source, frame).uri
        except (OSError, MedscrubError) as exc:
            card["warnings"].append(f"original not shown ({_why(exc)})")
    card["regions"] = [
        {"box": r.get("box"), "kind": r.get("kind", ""), "detector": r.get("detector", ""),
         "shown": _on_frame(r, frame)}
        for r in record.get("regions") or []
    ]
    return card


def _card_of(output: Path, originals: Path | None, record: dict[str, Any]) -> dict[str, Any]:
    return _card(record, output, originals)


def _lost_card(record: dict[str, Any]) -> dict[str, Any]:
    """The card of an output whose thumbnail crashed its worker twice."""
    return {"name": str(record["output"]), "actions": "", "warnings": [], "regions": [],
            "error": "cannot be shown (its worker process ended): open it by hand"}


def _cards(records: list[dict[str, Any]], output: Path, originals: Path | None,
           jobs: int) -> Iterator[dict[str, Any]]:
    """Every card, in the order of `records` (on `jobs` worker processes when > 1)."""
    return ordered_map(functools.partial(_card_of, output, originals), records,
                       lost=_lost_card, jobs=jobs if jobs > 1 else 0)


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """What a written review page holds.

    Attributes
    ----------
    path : Path
        The HTML file.
    cards : int
        Outputs shown (one card each).
    not_shown : int
        Outputs whose thumbnail could not be made (listed at the top).
    problems : int
        Files not written (failed or quarantined), listed at the top.
    originals : bool
        Whether "before" thumbnails (PHI) are included.
    """

    path: Path
    cards: int
    not_shown: int
    problems: int
    originals: bool


def check_page_path(page: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """Refuse a review page inside the output folder (it lists input paths; it may hold PHI)."""
    if Path(output).resolve() in Path(page).resolve().parents:
        raise UnsupportedInputError(f"{page}: the review page must not be inside the output")


def write_review(
    audit: str | os.PathLike[str],
    output: str | os.PathLike[str],
    page: str | os.PathLike[str],
    *,
    originals: str | os.PathLike[str] | None = None,
    jobs: int = 1,
) -> ReviewPage:
    """Write the review page of a run.

    Parameters
    ----------
    audit : path
        The run's audit log (JSON Lines).
    output : path
        The run's output folder (the cleaned files the log names).
    page : path
        The HTML file to write (not inside `output`).
    originals : path, optional
        The run's input folder: adds "before" thumbnails. The page then holds
        PHI and says so.
    jobs : int
        Worker processes making thumbnails.
    """
    out, target = Path(output), Path(page)
    check_page_path(target, out)
    log = read_audit(audit)
    summary = summarize(log)
    # the latest record of each output wins (a log may hold several runs)
    latest = {str(r["output"]): r for r in log.files
              if r.get("outcome") == "cleaned" and r.get("output")}
    source = Path(originals) if originals is not None else None
    if source is not None and source.is_file():
        source = source.parent
    cards = list(_cards(list(latest.values()), out, source, jobs))
    profile = str(log.runs[-1].info.get("profile", "")) if log.runs else ""
    text = _page(cards, summary, profile, source is not None)
    atomic_write(target, text.encode("utf-8"), private=True)  # paths, maybe the originals
    return ReviewPage(target, len(cards), sum(bool(c["error"]) for c in cards),
                      len(summary.problems), source is not None)


# -- the page -----------------------------------------------------------------------


def _list(items: Iterable[str]) -> str:
    return "".join(f"<li>{item}</li>" for item in items)


_PHI_BANNER = (
    '<div class="phi" role="alert"><strong>This page contains PHI.</strong> It shows the '
    "original images (before cleaning) next to the cleaned ones. Keep it inside the hospital, "
    "do not send or post it, and delete it after the review.</div>"
)


def _top(cards: list[dict[str, Any]], summary: AuditSummary) -> str:
    e = html.escape
    parts = []
    if summary.problems:
        rows = (f"<b>{e(p.outcome.upper())}</b> {e(p.input)}: {e(p.reason)} "
                f"<span class=muted>[stage {e(p.stage)}]</span>" for p in summary.problems)
        parts.append(f'<section class="bad" id="problems"><h2>{len(summary.problems)} file(s) '
                     f"not written</h2><ul>{_list(rows)}</ul></section>")
    unshown = [c for c in cards if c["error"]]
    if unshown:
        rows = (f"{e(c['name'])}: {e(c['error'])}" for c in unshown)
        parts.append(f'<section class="bad" id="not-shown"><h2>{len(unshown)} output(s) '
                     f"could not be shown</h2><ul>{_list(rows)}</ul></section>")
    if summary.warnings:
        rows = (f"{n} file(s): {e(w)}" for w, n in summary.warnings.items())
        parts.append(f'<section class="warn" id="warnings"><h2>Warnings</h2>'
                     f"<ul>{_list(rows)}</ul></section>")
    if summary.skipped:
        rows = (f"{n} file(s): {e(why)}" for why, n in summary.skipped.items())
        parts.append(f'<section class="note" id="skipped"><h2>Skipped</h2>'
                     f"<ul>{_list(rows)}</ul></section>")
    return "\n".join(parts)


def _counts(summary: AuditSummary, cards: int) -> str:
    outcomes = ", ".join(f"{n} {k}" for k, n in summary.outcomes.items()) or "no files"
    regions = sum(summary.regions.values())
    return (f"{cards} output(s) to review &middot; {html.escape(outcomes)} &middot; "
            f"{regions} region(s) redacted")


def _page(cards: list[dict[str, Any]], summary: AuditSummary, profile: str,
          originals: bool) -> str:
    data = json.dumps({"items": cards, "originals": originals}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # nothing in the data can close the script element
    kinds = Counter(r["kind"] for c in cards for r in c["regions"])
    legend = "".join(f'<span class="key k-{html.escape(k)}">{html.escape(k)} {n}</span>'
                     for k, n in sorted(kinds.items()))
    title = "medscrub review" + (" (CONTAINS PHI)" if originals else "")
    return _TEMPLATE.format(
        title=title,
        counts=_counts(summary, len(cards)),
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        version=html.escape(__version__),
        profile=html.escape(profile),
        banner=_PHI_BANNER if originals else "",
        body_class="originals" if originals else "",
        top=_top(cards, summary),
        legend=legend,
        data=data,
        style=_STYLE,
        script=_SCRIPT,
    )


_STYLE = """
:root { --text: #e6194b; --face: #f58231; --known: #4363d8; --overlay: #911eb4;
        --user: #3cb44b; --other: #c8a600; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f4f4f6; }
header { position: sticky; top: 0; z-index: 2; background: #fff; padding: 10px 16px;
         border-bottom: 1px solid #ccc; display: flex; flex-wrap: wrap; gap: 8px 16px;
         align-items: center; }
header h1 { font-size: 18px; margin: 0; }
main { padding: 12px 16px; }
.muted { color: #666; }
.phi { background: #b00020; color: #fff; padding: 10px 14px; font-size: 16px; width: 100%; }
section { border-radius: 6px; padding: 8px 12px; margin: 0 0 12px; }
section h2 { font-size: 15px; margin: 4px 0; }
section ul { margin: 4px 0; padding-left: 20px; max-height: 16em; overflow: auto; }
.bad { background: #fde7ea; border: 1px solid #e8a0aa; }
.warn { background: #fff6da; border: 1px solid #e9cf7a; }
.note { background: #eceff3; border: 1px solid #c9ced6; }
.controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.key { border-left: 12px solid var(--other); padding: 0 6px; }
.k-text { border-color: var(--text); } .k-face { border-color: var(--face); }
.k-known { border-color: var(--known); } .k-overlay { border-color: var(--overlay); }
.k-user { border-color: var(--user); }
#cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.originals #cards { grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); }
.card { background: #fff; border: 1px solid #d0d0d5; border-radius: 6px; padding: 8px; }
.card.flag { border-color: #d4a000; }
.card.error { border-color: #b00020; }
.card h3 { font-size: 13px; margin: 6px 0 2px; word-break: break-all; }
.pair { display: flex; gap: 6px; }
figure { margin: 0; flex: 1; min-width: 0; }
figcaption { font-size: 11px; color: #555; text-align: center; }
.frame { position: relative; background: #000; line-height: 0; }
.frame img { width: 100%; height: auto; display: block; }
.frame svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.frame rect { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.frame rect.other-frame { stroke-dasharray: 4 3; }
.frame text { paint-order: stroke; stroke: #000; stroke-width: 3px; fill: #fff;
              font-weight: 600; vector-effect: non-scaling-stroke; }
.card ul { margin: 4px 0; padding-left: 18px; font-size: 12px; }
.card .warnings li { color: #8a5a00; }
.card .err { color: #b00020; font-weight: 600; }
.badge { display: inline-block; background: #333; color: #fff; border-radius: 3px;
         padding: 0 5px; font-size: 11px; }
button, select { font: inherit; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = {text: "#e6194b", face: "#f58231", known: "#4363d8", overlay: "#911eb4",
                user: "#3cb44b"};
  var state = {page: 0, size: 48, filter: "all"};
  var grid = document.getElementById("cards");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function outlines(item) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + item.columns + " " + item.rows);
    svg.setAttribute("preserveAspectRatio", "none");
    var size = Math.max(item.rows, item.columns) / 24;
    item.regions.forEach(function (r) {
      if (!r.box) { return; }
      var color = COLORS[r.kind] || "#c8a600";
      var rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", r.box[1]);
      rect.setAttribute("y", r.box[0]);
      rect.setAttribute("width", Math.max(1, r.box[3] - r.box[1]));
      rect.setAttribute("height", Math.max(1, r.box[2] - r.box[0]));
      rect.setAttribute("stroke", color);
      if (!r.shown) { rect.setAttribute("class", "other-frame"); }
      var label = document.createElementNS(SVG, "text");
      label.setAttribute("x", r.box[1] + 2);
      var below = r.box[0] < size;
      label.setAttribute("y", below ? Math.min(item.rows, r.box[2] + size) : r.box[0] - 2);
      label.setAttribute("font-size", size);
      label.textContent = r.kind;
      svg.appendChild(rect);
      svg.appendChild(label);
    });
    return svg;
  }

  function figure(item, uri, caption) {
    var fig = el("figure");
    var frame = el("div", "frame");
    var img = el("img");
    img.src = uri;
    img.alt = caption + " " + item.name;
    img.decoding = "async";
    frame.appendChild(img);
    frame.appendChild(outlines(item));
    fig.appendChild(frame);
    fig.appendChild(el("figcaption", "", caption));
    return fig;
  }

  function card(item) {
    var flagged = item.regions.length || item.warnings.length;
    var node = el("article", "card" + (item.error ? " error" : flagged ? " flag" : ""));
    node.dataset.name = item.name;
    if (item.error) {
      node.appendChild(el("p", "err", item.error));
    } else {
      var pair = el("div", "pair");
      if (data.originals && item.before) {
        pair.appendChild(figure(item, item.before, "before (PHI)"));
      }
      pair.appendChild(figure(item, item.uri, data.originals ? "after" : "cleaned"));
      node.appendChild(pair);
    }
    node.appendChild(el("h3", "", item.name));
    if (item.frames > 1) {
      node.appendChild(el("span", "badge", "frame " + (item.frame + 1) + " of " + item.frames));
    }
    var kinds = {};
    item.regions.forEach(function (r) {
      var key = r.kind + (r.detector ? " (" + r.detector + ")" : "");
      kinds[key] = (kinds[key] || 0) + 1;
    });
    var done = el("ul", "actions");
    Object.keys(kinds).sort().forEach(function (k) {
      done.appendChild(el("li", "", "redacted: " + k + " \u00d7" + kinds[k]));
    });
    if (item.actions) { done.appendChild(el("li", "", "header: " + item.actions)); }
    node.appendChild(done);
    if (item.warnings.length) {
      var warn = el("ul", "warnings");
      item.warnings.forEach(function (w) { warn.appendChild(el("li", "", w)); });
      node.appendChild(warn);
    }
    return node;
  }

  function matching() {
    return data.items.filter(function (item) {
      if (state.filter === "regions") { return item.regions.length > 0; }
      if (state.filter === "warnings") { return item.warnings.length > 0 || item.error; }
      return true;
    });
  }

  function pages() { return Math.max(1, Math.ceil(matching().length / state.size)); }

  function show(page) {
    var items = matching();
    state.page = Math.min(Math.max(0, page), pages() - 1);
    var start = state.page * state.size;
    var shown = items.slice(start, start + state.size);
    grid.replaceChildren.apply(grid, shown.map(card));
    document.getElementById("where").textContent =
      items.length ? "page " + (state.page + 1) + " of " + pages() + " (" + (start + 1) +
      "\u2013" + (start + shown.length) + " of " + items.length + ")" : "nothing to show";
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages() - 1;
    return shown.length;
  }

  function turn(step) { show(state.page + step); window.scrollTo(0, 0); }
  document.getElementById("prev").onclick = function () { turn(-1); };
  document.getElementById("next").onclick = function () { turn(1); };
  document.getElementById("filter").onchange = function (e) {
    state.filter = e.target.value; show(0);
  };
  document.getElementById("size").onchange = function (e) {
    state.size = parseInt(e.target.value, 10); show(0);
  };
  window.medscrubReview = {
    show: show, pages: pages, count: function () { return data.items.length; }
  };
  show(0);
})();
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body class="{body_class}">
<header>
{banner}
<h1>{title}</h1>
<span>{counts}</span>
<span class="muted">medscrub {version} &middot; {profile} &middot; {generated}</span>
<div class="controls">
<label>show <select id="filter">
<option value="all">all outputs</option>
<option value="regions">with redactions</option>
<option value="warnings">with warnings</option>
</select></label>
<label>per page <select id="size">
<option>24</option><option selected>48</option><option>96</option><option>192</option>
</select></label>
<button id="prev" type="button">&larr; previous</button>
<span id="where"></span>
<button id="next" type="button">next &rarr;</button>
</div>
<div class="legend">{legend}</div>
</header>
<main>
{top}
<noscript><p class="err">This page needs JavaScript to show the images.</p></noscript>
<div id="cards"></div>
</main>
<script id="review-data" type="application/json">{data}</script>
<script>{script}</script>
</body>
</html>
"""
