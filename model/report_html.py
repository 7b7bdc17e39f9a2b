"""A scoring run as one self-contained HTML page that a reader new to propscan can follow.

The page has no outside references (inline CSS, a few lines of vanilla JS, inline SVG), so
it can be mailed or archived and opens offline. Every string that came from the user is
escaped. Article text is rebuilt from sentence offsets, gaps included, so the page reads
exactly as the original; technique labels are drawn by CSS (`::after`), which keeps them
out of the text a reader copies.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape

from data.techniques import Technique, load_techniques

# Fixed per technique id so every report uses the same colours. Strong colours are used
# for bars, swatches and borders; text sits on a light tint of them (see `tint`).
COLOURS = {
    "loaded_language": "#d62728",
    "name_calling": "#ff7f0e",
    "repetition": "#c9a800",
    "exaggeration": "#8c6d31",
    "doubt": "#2ca02c",
    "appeal_to_fear": "#9467bd",
    "flag_waving": "#1f77b4",
    "causal_oversimplification": "#17becf",
    "appeal_to_authority": "#e377c2",
    "black_and_white": "#393b79",
    "slogans": "#7f7f7f",
    "thought_terminating_cliche": "#8c564b",
    "whataboutism": "#bcbd22",
    "bandwagon": "#637939",
    "unsupported_claim": "#ad494a",
    "denial": "#5254a3",
}
FALLBACK_COLOUR = "#999999"

CSS = """
:root { color-scheme: light; --ink: #1d2327; --muted: #5f6b73; --line: #dde3e8; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { margin: 0 0 .2rem; font-size: 1.8rem; }
h2 { font-size: 1.25rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
section, article { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 1rem 1.25rem; margin: 1rem 0; }
.muted { color: var(--muted); font-size: .9rem; }
.howto { background: #fffbe6; border-color: #f0e1a0; }
.stats { display: flex; flex-wrap: wrap; gap: .75rem; margin: .5rem 0 1rem; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; min-width: 9rem; }
.stat b { display: block; font-size: 1.4rem; }
.legend { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
  gap: .35rem 1rem; padding: 0; list-style: none; margin: 0; }
.legend li { display: flex; align-items: center; gap: .5rem; cursor: help; }
.legend .name { border-bottom: 1px dotted var(--muted); }
.legend .n { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
.sw { width: 1rem; height: 1rem; border-radius: 3px; flex: none; background: var(--c); }
.toc ol { columns: 2 18rem; margin: 0; padding-left: 1.75rem; }
.toc li { break-inside: avoid; overflow-wrap: anywhere; }
svg.chart { display: block; max-width: 100%; margin: .25rem 0 .75rem; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.text { white-space: pre-wrap; overflow-wrap: break-word; font-size: 1.02rem; line-height: 1.8;
  border-top: 1px solid var(--line); padding-top: .75rem; }
.s { cursor: pointer; border-radius: 3px; }
.s:hover { outline: 1px dashed #9aa5ad; }
.s.hl { background: var(--t); box-shadow: inset 0 -2px 0 var(--c); padding: 1px 0; }
.s.open { outline: 2px solid var(--ink); }
.tag { font-size: .7rem; line-height: 1; white-space: nowrap; vertical-align: 2px; margin-left: 4px;
  padding: 1px 5px; border-radius: 8px; border: 1px solid var(--c); background: #fff; }
.tag::before { content: ""; display: inline-block; width: .6em; height: .6em; margin-right: 3px;
  border-radius: 50%; background: var(--c); }
.tag::after { content: attr(data-label); }
.details { display: block; white-space: normal; margin: .4rem 0 0; padding: .5rem .75rem;
  border: 1px solid var(--line); border-left: 4px solid var(--ink); border-radius: 6px;
  background: #fafbfc; font-size: .85rem; line-height: 1.4; cursor: default; }
.details table { border-collapse: collapse; width: 100%; }
.details td { padding: 1px 6px; }
.details .bar { width: 40%; }
.details .bar span { display: block; height: .6rem; border-radius: 2px; background: var(--c); }
.details tr.over { font-weight: 600; }
.details td.p { text-align: right; font-variant-numeric: tabular-nums; }
.top { font-size: .85rem; }
"""

# Click a sentence to toggle a box with all scores; keyboard users press Enter on it.
SCRIPT = """
const T = JSON.parse(document.getElementById("techniques").textContent);
function box(s) {
  const probs = s.dataset.p.split(",").map(Number);
  const over = new Set((s.dataset.t || "").split(" "));
  const rows = T.map((t, i) => [t, probs[i]]).sort((a, b) => b[1] - a[1]);
  const d = document.createElement("span");
  d.className = "details";
  const head = document.createElement("div");
  head.textContent = "All " + T.length + " technique scores for this sentence " +
    "(bold = flagged). Click the sentence again to close.";
  const table = document.createElement("table");
  for (const [t, p] of rows) {
    const tr = table.insertRow();
    tr.style.setProperty("--c", t.colour);
    if (over.has(t.id)) tr.className = "over";
    tr.insertCell().textContent = (over.has(t.id) ? "\\u2714 " : "") + t.name;
    const bar = document.createElement("span");
    bar.style.width = (100 * p).toFixed(1) + "%";
    const cell = tr.insertCell();
    cell.className = "bar";
    cell.append(bar);
    const pc = tr.insertCell();
    pc.className = "p";
    pc.textContent = (100 * p).toFixed(1) + "%";
  }
  d.append(head, table);
  return d;
}
function toggle(s) {
  const next = s.nextElementSibling;
  if (next && next.classList.contains("details")) { next.remove(); s.classList.remove("open"); }
  else { s.after(box(s)); s.classList.add("open"); }
}
document.addEventListener("click", e => {
  const s = e.target.closest(".s");
  if (s) toggle(s);
});
document.addEventListener("keydown", e => {
  if (e.key === "Enter" && e.target.matches(".s")) toggle(e.target);
});
"""

HOW_TO_READ = (
    "Each article is shown in full. A coloured sentence was flagged by the model: its colour "
    "is its most probable technique, and the small labels after it name every technique "
    "found in it. Hover a coloured sentence for its scores; click any sentence to see all "
    "{n} technique scores. Hover a technique in the legend for its definition."
)


def colour(technique_id: str) -> str:
    """The technique's fixed colour (grey for an id the inventory does not know)."""
    return COLOURS.get(technique_id, FALLBACK_COLOUR)


def tint(colour: str, strength: float = 0.22) -> str:
    """A light version of `colour` that dark text stays readable on."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * strength):02x}" for c in rgb)


def colour_css(techniques: tuple[Technique, ...]) -> str:
    """One class per technique setting --c (strong) and --t (tint) for every element."""
    return "\n".join(
        f".t-{t.id} {{ --c: {colour(t.id)}; --t: {tint(colour(t.id))}; }}" for t in techniques
    )


def flagged(sentence: dict) -> list[str]:
    """The techniques the model reported for the sentence, most probable first."""
    probs = sentence["probabilities"]
    return sorted(sentence["techniques"], key=lambda t: -probs.get(t, 0.0))


def count_flagged(sentences: list[dict]) -> int:
    """Sentences with at least one technique reported."""
    return sum(bool(s["techniques"]) for s in sentences)


def technique_counts(sentences: list[dict]) -> Counter:
    """How many sentences carry each technique (a sentence counts once per technique)."""
    return Counter(t for s in sentences for t in s["techniques"])


def bar_chart(counts: Counter, names: dict[str, str], label: str) -> str:
    """Horizontal bars (inline SVG) of the techniques that occur, most frequent first."""
    rows = counts.most_common()
    if not rows:
        return '<p class="muted">No technique flagged.</p>'
    height, label_w, bar_w, top = 20, 260, 320, max(counts.values())
    bars = []
    for i, (tid, n) in enumerate(rows):
        y, w = i * height, max(2, round(bar_w * n / top))
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">'
            f"{escape(names.get(tid, tid))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{height - 6}" rx="2" '
            f'fill="{colour(tid)}"/><text x="{label_w + w + 6}" y="{y + 14}">{n}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" '
        f'width="{label_w + bar_w + 40}" height="{len(rows) * height}">{"".join(bars)}</svg>'
    )


def summary(documents: list[dict], techniques: tuple[Technique, ...], counts: Counter) -> str:
    """Run totals, the how-to-read note, the run-wide chart and the legend."""
    sentences = [s for d in documents for s in d["sentences"]]
    n_flagged = count_flagged(sentences)
    share = f"{n_flagged / len(sentences):.1%}" if sentences else "n/a"
    stats = [
        ("documents", f"{len(documents):,}"),
        ("sentences", f"{len(sentences):,}"),
        ("sentences flagged", f"{n_flagged:,}"),
        ("share with any technique", share),
    ]
    cards = "".join(f'<div class="stat"><b>{v}</b>{k}</div>' for k, v in stats)
    names = {t.id: t.name for t in techniques}
    return (
        f'<section class="howto"><b>How to read this.</b> '
        f"{escape(HOW_TO_READ.format(n=len(techniques)))}</section>"
        f'<section><h2>Summary</h2><div class="stats">{cards}</div>'
        f'<h3 class="muted">Flagged sentences per technique, whole run</h3>'
        f"{bar_chart(counts, names, 'Flagged sentences per technique, whole run')}</section>"
        f"{legend(techniques, counts)}"
    )


def legend(techniques: tuple[Technique, ...], counts: Counter) -> str:
    """Every technique's colour and name, its definition on hover, its run count."""
    items = "".join(
        f'<li class="t-{t.id}" title="{escape(t.name)}: {escape(t.definition)}">'
        f'<span class="sw"></span><span class="name">{escape(t.name)}</span>'
        f'<span class="n">{counts.get(t.id, 0):,}</span></li>'
        for t in techniques
    )
    return (
        '<section><h2>Techniques</h2><p class="muted">Colour, name and number of flagged '
        "sentences in this run; hover a name for its definition.</p>"
        f'<ul class="legend">{items}</ul></section>'
    )


def table_of_contents(documents: list[dict]) -> str:
    """Links to every article with its flagged/total sentence counts."""
    if not documents:
        return "<section><h2>Articles</h2><p>No documents.</p></section>"
    items = "".join(
        f'<li><a href="#doc-{i}">{escape(doc["id"])}</a> <span class="muted">'
        f"{count_flagged(doc['sentences'])} of "
        f"{len(doc['sentences'])} sentences flagged</span></li>"
        for i, doc in enumerate(documents, 1)
    )
    return f'<section class="toc"><h2>Articles</h2><ol>{items}</ol></section>'


def sentence_html(sentence: dict, body: str, techniques: tuple[Technique, ...]) -> str:
    """One clickable sentence; flagged ones get their colour, a tooltip and labels."""
    probs = sentence["probabilities"]
    data = ",".join(f"{probs.get(t.id, 0.0):.4g}" for t in techniques)
    found = flagged(sentence)
    if not found:
        return f'<span class="s" data-p="{data}">{escape(body)}</span>'
    names = {t.id: t.name for t in techniques}
    tip = "\n".join(f"{names.get(t, t)}: {probs.get(t, 0.0):.0%}" for t in found)
    tags = "".join(
        f'<span class="tag t-{escape(t)}" data-label="{escape(names.get(t, t).split(",")[0])}">'
        "</span>"
        for t in found
    )
    return (
        f'<span class="s hl t-{escape(found[0])}" tabindex="0" data-p="{data}" '
        f'data-t="{escape(" ".join(found))}" title="{escape(tip)}\n(click for all scores)">'
        f"{escape(body)}{tags}</span>"
    )


def article_text(doc: dict, techniques: tuple[Technique, ...]) -> str:
    """The whole document text: sentences as spans, the text between them as is."""
    text, parts, cursor = doc["text"], [], 0
    for sentence in sorted(doc["sentences"], key=lambda s: s["start"]):
        start = max(sentence["start"], cursor)  # overlapping offsets must not repeat text
        parts.append(escape(text[cursor:start]))
        parts.append(sentence_html(sentence, text[start : sentence["end"]], techniques))
        cursor = max(cursor, sentence["end"])
    parts.append(escape(text[cursor:]))
    return "".join(parts)


def article(index: int, doc: dict, techniques: tuple[Technique, ...]) -> str:
    """One article: heading, counts, its technique chart and its highlighted text."""
    sentences = doc["sentences"]
    n_flagged = count_flagged(sentences)
    names = {t.id: t.name for t in techniques}
    chart = bar_chart(technique_counts(sentences), names, f"Techniques in {doc['id']}")
    return (
        f'<article id="doc-{index}"><h2>{escape(doc["id"])}</h2>'
        f'<p class="muted">{len(sentences)} sentences, {n_flagged} flagged</p>{chart}'
        f'<div class="text">{article_text(doc, techniques)}</div>'
        '<a class="top" href="#top">back to top</a></article>'
    )


def render_report(
    documents: list[dict], title: str = "propscan report", model_name: str = ""
) -> str:
    """The full HTML page for scored `documents` (as `Predictor.score` plus id and text)."""
    techniques = load_techniques()
    counts = technique_counts([s for d in documents for s in d["sentences"]])
    inventory = [{"id": t.id, "name": t.name, "colour": colour(t.id)} for t in techniques]
    inventory_json = json.dumps(inventory).replace("<", "\\u003c")  # cannot close the script
    model = f"Model: {escape(model_name)}" if model_name else "Model: not named"
    articles = "".join(article(i, d, techniques) for i, d in enumerate(documents, 1))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}{colour_css(techniques)}</style></head>"
        f'<body><main id="top"><h1>{escape(title)}</h1><p class="muted">{model} · '
        "propaganda and rhetoric techniques found sentence by sentence</p>"
        f"{summary(documents, techniques, counts)}{table_of_contents(documents)}{articles}</main>"
        '<script type="application/json" id="techniques">'
        f"{inventory_json}</script>"
        f"<script>{SCRIPT}</script></body></html>"
    )
