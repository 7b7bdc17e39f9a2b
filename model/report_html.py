"""A scoring run as one self-contained HTML page that a reader new to propscan can follow.

The page has no outside references (inline CSS, a few lines of vanilla JS, inline SVG), so
it can be mailed or archived and opens offline. It is rendered by Jinja2 with autoescaping:
every string that came from the user (text, ids, file names, reasons, title, model name)
is escaped wherever it lands, and the one inline JSON block goes through `tojson`, which
escapes `<`, `>`, `&` and `'`, so no data can close a `<script>` or `<style>` or open a tag.
Only the page's own constants (CSS, script) are inserted as is. Article text is rebuilt
from sentence offsets, gaps included, so the page reads exactly as the original;
technique labels are drawn by CSS (`::after`), which keeps them out of the text a reader
copies, and every flagged sentence carries them: colour is never the only sign.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from data.techniques import Technique, load_techniques

# Fixed per technique id so every report uses the same colours: 16 of Kelly's colours of
# maximum contrast, every pair at least 27 apart in CIE76 deltaE (the former palette had
# pairs at 14). Strong colours are used for bars, swatches and borders; text sits on a
# light tint of them (see `tint`), and labels name the technique, so colour is a help,
# never the only sign.
COLOURS = {
    "loaded_language": "#be0032",
    "name_calling": "#e25822",
    "repetition": "#f6a600",
    "exaggeration": "#f99379",
    "doubt": "#008856",
    "appeal_to_fear": "#654522",
    "flag_waving": "#0067a5",
    "causal_oversimplification": "#a1caf1",
    "appeal_to_authority": "#e68fac",
    "black_and_white": "#2b3d26",
    "slogans": "#848482",
    "thought_terminating_cliche": "#882d17",
    "whataboutism": "#dcd300",
    "bandwagon": "#8db600",
    "unsupported_claim": "#c2b280",
    "denial": "#875692",
}
FALLBACK_COLOUR = "#999999"
CSS_NAME = re.compile(r"[A-Za-z0-9_-]+")

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
.sp { color: inherit; background-color: transparent; cursor: help; }
.top { font-size: .85rem; }
.failed { border-color: #e6b0b0; background: #fff7f7; }
.failed table { border-collapse: collapse; width: 100%; font-size: .9rem; }
.failed td { padding: 2px 8px 2px 0; vertical-align: top; overflow-wrap: anywhere; }
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
    "{n} technique scores. Underlined words are where the model found a technique (one "
    "coloured line per technique, stacked where they overlap): hover them for its name and "
    "probability. Hover a technique in the legend for its definition."
)


TEMPLATE = """\
{%- macro chart(rows, label) -%}
{%- if not rows -%}<p class="muted">No technique flagged.</p>
{%- else -%}
<svg class="chart" role="img" aria-label="{{ label }}" width="620" height="{{ rows|length * 20 }}">
{%- for row in rows -%}
<text x="252" y="{{ loop.index0 * 20 + 14 }}" text-anchor="end">{{ row.name }}</text>
<rect x="260" y="{{ loop.index0 * 20 + 3 }}" width="{{ row.width }}" height="14" rx="2" \
fill="{{ row.colour }}"/><text x="{{ 266 + row.width }}" y="{{ loop.index0 * 20 + 14 }}">\
{{ row.count }}</text>
{%- endfor %}</svg>
{%- endif -%}
{%- endmacro -%}
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><style>{{ css }}</style></head>
<body><main id="top"><h1>{{ title }}</h1>
<p class="muted">Model: {{ model_name or "not named" }} · \
propaganda and rhetoric techniques found sentence by sentence</p>
<section class="howto"><b>How to read this.</b> {{ how_to_read }}</section>
<section><h2>Summary</h2><div class="stats">
{%- for label, value in stats %}<div class="stat"><b>{{ value }}</b>{{ label }}</div>{% endfor -%}
</div><h3 class="muted">Flagged sentences per technique, whole run</h3>
{{ chart(run_chart, "Flagged sentences per technique, whole run") }}</section>
{% if errors -%}
<section class="failed"><h2>Inputs not scored ({{ errors|length }})</h2>
<p class="muted">These inputs failed and are missing from this report.</p><table>
{%- for error in errors %}<tr><td>{{ error.origin }}</td><td>{{ error.reason }}</td></tr>\
{% endfor %}</table></section>
{% endif -%}
<section><h2>Techniques</h2><p class="muted">Colour, name and number of flagged sentences \
in this run; hover a name for its definition.</p><ul class="legend">
{%- for t in legend %}<li class="t-{{ t.id }}" title="{{ t.name }}: {{ t.definition }}">\
<span class="sw"></span><span class="name">{{ t.name }}</span><span class="n">{{ t.count }}</span>\
</li>{% endfor %}</ul></section>
{% if not documents -%}
<section><h2>Articles</h2><p>No documents.</p></section>
{%- else -%}
<section class="toc"><h2>Articles</h2><ol>
{%- for doc in documents %}<li><a href="#doc-{{ loop.index }}">{{ doc.id }}</a> \
<span class="muted">{{ doc.flagged }} of {{ doc.sentences }} sentences flagged</span></li>\
{% endfor %}</ol></section>
{%- endif %}
{% for doc in documents -%}
<article id="doc-{{ loop.index }}"><h2>{{ doc.id }}</h2>
<p class="muted">{{ doc.sentences }} sentences, {{ doc.flagged }} flagged</p>
{{ chart(doc.chart, "Techniques in " ~ doc.id) }}<div class="text">
{%- for text, s in doc.parts -%}
{%- if s is none -%}{{ text }}
{%- elif not s.found -%}<span class="s" data-p="{{ s.data }}">{{ text }}</span>
{%- else -%}<span class="s hl t-{{ s.found[0] }}" tabindex="0" data-p="{{ s.data }}" \
data-t="{{ s.found|join(" ") }}" title="{{ s.tip }}">
{%- for piece, mark in s.pieces(text) -%}
{%- if mark is none -%}{{ piece }}
{%- else -%}<mark class="sp" style="{{ mark.style }}" title="{{ mark.tip }}">{{ piece }}</mark>
{%- endif -%}
{%- endfor -%}
{%- for id, label in s.labels %}<span class="tag t-{{ id }}" data-label="{{ label }}"></span>\
{% endfor %}</span>
{%- endif -%}
{%- endfor -%}
</div><a class="top" href="#top">back to top</a></article>
{% endfor -%}
</main><script type="application/json" id="techniques">{{ inventory|tojson }}</script>
<script>{{ script }}</script></body></html>
"""


def colour(technique_id: str) -> str:
    """The technique's fixed colour (grey for an id the inventory does not know)."""
    return COLOURS.get(technique_id, FALLBACK_COLOUR)


def tint(colour: str, strength: float = 0.22) -> str:
    """A light version of `colour` that dark text stays readable on."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * strength):02x}" for c in rgb)


def colour_css(techniques: tuple[Technique, ...]) -> str:
    """One class per technique setting --c (strong) and --t (tint) for every element. The
    CSS goes into the page unescaped, so an id that is not a plain name gets no class."""
    return "\n".join(
        f".t-{t.id} {{ --c: {colour(t.id)}; --t: {tint(colour(t.id))}; }}"
        for t in techniques
        if CSS_NAME.fullmatch(t.id)
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


def chart_rows(counts: Counter, names: dict[str, str]) -> list[dict]:
    """Bars of the techniques that occur, most frequent first (drawn by the template)."""
    top = max(counts.values(), default=1)
    return [
        {
            "name": names.get(t, t),
            "count": n,
            "colour": colour(t),
            "width": max(2, round(320 * n / top)),
        }
        for t, n in counts.most_common()
    ]


SPAN_LINE = 3  # px: the height of one technique's underline under its words


def span_mark(techniques: list[tuple[str, float]], names: dict[str, str]) -> dict:
    """How a run of words inside spans is drawn: one underline per technique, stacked, in
    the techniques' own colours (ours, never the user's text), and a tooltip naming each."""
    lines = ", ".join(
        f"linear-gradient({colour(t)}, {colour(t)}) 0 calc(100% - {i * SPAN_LINE}px) / "
        f"100% {SPAN_LINE}px no-repeat"
        for i, (t, _) in enumerate(techniques)
    )
    return {
        "style": f"background: {lines}; padding-bottom: {len(techniques) * SPAN_LINE}px",
        "tip": "\n".join(f"{names.get(t, t)}: {p:.0%}" for t, p in techniques),
    }


def span_pieces(text: str, start: int, spans: list[dict], names: dict[str, str]) -> list:
    """`text` (which starts at document offset `start`) cut where spans begin and end, as
    (piece, mark or None); overlapping spans make pieces with several underlines."""
    cuts = {0, len(text)}
    for span in spans:
        cuts.update(min(max(span[k] - start, 0), len(text)) for k in ("start", "end"))
    bounds = sorted(cuts)
    pieces = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        over = sorted(
            {
                (span["technique"], span["probability"])
                for span in spans
                if span["start"] - start < b and span["end"] - start > a
            },
            key=lambda tp: -tp[1],
        )
        pieces.append((text[a:b], span_mark(over, names) if over else None))
    return pieces


def sentence_view(sentence: dict, techniques: tuple[Technique, ...]) -> dict:
    """What the template shows of one sentence: all its scores, and for a flagged one its
    techniques (most probable first), tooltip and labels."""
    probs = sentence["probabilities"]
    names = {t.id: t.name for t in techniques}
    found = flagged(sentence)
    tip = "\n".join(f"{names.get(t, t)}: {probs.get(t, 0.0):.0%}" for t in found)
    spans = sentence.get("spans", [])

    def pieces(text: str) -> list:  # the sentence's text as shown, which may start later
        return span_pieces(text, sentence["end"] - len(text), spans, names)

    return {
        "pieces": pieces,
        "data": ",".join(f"{probs.get(t.id, 0.0):.4g}" for t in techniques),
        "found": found,
        "tip": f"{tip}\n(click for all scores)",
        "labels": [(t, names.get(t, t).split(",")[0]) for t in found],
    }


def article_parts(doc: dict, techniques: tuple[Technique, ...]) -> list[tuple[str, dict | None]]:
    """The whole document text as (text, sentence view), gaps between sentences as
    (text, None), so that the page shows every character of the original once."""
    text, parts, cursor = doc["text"], [], 0
    for sentence in sorted(doc["sentences"], key=lambda s: s["start"]):
        start = max(sentence["start"], cursor)  # overlapping offsets must not repeat text
        parts.append((text[cursor:start], None))
        parts.append((text[start : sentence["end"]], sentence_view(sentence, techniques)))
        cursor = max(cursor, sentence["end"])
    parts.append((text[cursor:], None))
    return [(body, view) for body, view in parts if body or view]


def document_view(doc: dict, techniques: tuple[Technique, ...]) -> dict:
    names = {t.id: t.name for t in techniques}
    return {
        "id": doc["id"],
        "sentences": len(doc["sentences"]),
        "flagged": count_flagged(doc["sentences"]),
        "chart": chart_rows(technique_counts(doc["sentences"]), names),
        "parts": article_parts(doc, techniques),
    }


@cache
def template() -> Template:
    return Environment(autoescape=True, undefined=StrictUndefined).from_string(TEMPLATE)


def render_report(
    documents: list[dict],
    title: str = "propscan report",
    model_name: str = "",
    errors: list | None = None,
    techniques: tuple[Technique, ...] | None = None,
) -> str:
    """The full HTML page for scored `documents` (as `Predictor.score` plus id and text),
    listing the inputs that failed (`errors`: objects with `origin` and `reason`).
    `techniques` defaults to the inventory."""
    techniques = techniques or load_techniques()
    sentences = [s for d in documents for s in d["sentences"]]
    counts = technique_counts(sentences)
    n_flagged = count_flagged(sentences)
    names = {t.id: t.name for t in techniques}
    return template().render(
        title=title,
        model_name=model_name,
        css=Markup(CSS + colour_css(techniques)),  # constants and inventory colours only
        script=Markup(SCRIPT),
        how_to_read=HOW_TO_READ.format(n=len(techniques)),
        stats=[
            ("documents", f"{len(documents):,}"),
            ("sentences", f"{len(sentences):,}"),
            ("sentences flagged", f"{n_flagged:,}"),
            (
                "share with any technique",
                f"{n_flagged / len(sentences):.1%}" if sentences else "n/a",
            ),
        ],
        run_chart=chart_rows(counts, names),
        errors=errors or [],
        legend=[
            {
                "id": t.id,
                "name": t.name,
                "definition": t.definition,
                "count": f"{counts.get(t.id, 0):,}",
            }
            for t in techniques
        ],
        documents=[document_view(d, techniques) for d in documents],
        inventory=[{"id": t.id, "name": t.name, "colour": colour(t.id)} for t in techniques],
    )
