"""The HTML report as its reader sees it: all text there, coloured, escaped, offline."""

from __future__ import annotations

import html
import random
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from data.techniques import load_techniques, technique_ids
from model.inputs import InputError
from model.report_html import COLOURS, render_report

COUNCIL = """Council's Budget Betrayal
By Jane Porter, City Desk

The council's reckless, scandalous budget will gut the library.
So-called experts at City Hall say the cuts are "modest". Can we really believe a word \
they say?

  Every family in this town knows the truth: if the library closes, crime will soar.
Jobs, jobs, jobs: that is what this plan should be about.
The budget vote is on Thursday at 7 p.m. in the town hall."""

PIPELINE = """Pipeline approved after two-year review
Reuters — The regional energy board approved the Northway pipeline on Monday.
The board said the project met all environmental conditions.
Opponents called the decision "a betrayal of every child who will breathe this air".
Either we stop this pipeline now, or we lose the valley forever!
A spokesperson for the operator said construction would start in spring.
"""

FLAGS = {
    "The council's reckless": {"loaded_language": 0.93, "exaggeration": 0.61},
    "So-called experts": {"name_calling": 0.88},
    "Can we really believe": {"doubt": 0.81},
    "Every family in this town": {"appeal_to_fear": 0.74, "causal_oversimplification": 0.66},
    "Jobs, jobs, jobs": {"slogans": 0.58, "repetition": 0.9},
    "Opponents called": {"loaded_language": 0.7},
    "Either we stop": {"black_and_white": 0.85, "appeal_to_fear": 0.52},
}


def scored(doc_id: str, text: str) -> dict:
    """A document as `Predictor.score` shapes it, flagged by FLAGS, other scores low."""
    from model.segment import segment

    rng = random.Random(doc_id)
    sentences = []
    for idx, s in enumerate(segment(text)):
        flags = next((f for prefix, f in FLAGS.items() if s.text.startswith(prefix)), {})
        probs = {t: round(rng.uniform(0.0, 0.3), 4) for t in technique_ids()} | flags
        # Each technique's span: the sentence's first 10, 16, ... characters, so they overlap.
        spans = [
            {"technique": t, "start": s.start, "end": s.start + min(10 + 6 * j, len(s.text)),
             "text": s.text[: 10 + 6 * j], "probability": p}
            for j, (t, p) in enumerate(flags.items())
        ]  # fmt: skip
        sentences.append(
            {"sent_idx": idx, "start": s.start, "end": s.end, "text": s.text,
             "techniques": list(flags), "probabilities": probs, "spans": spans}
        )  # fmt: skip
    return {"id": doc_id, "text": text, "sentences": sentences}


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return [scored("council-budget.txt", COUNCIL), scored("pipeline-approved", PIPELINE)]


class ArticleText(HTMLParser):
    """The visible text of each `<div class="text">`, as a browser shows it (JS not run)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "span" or tag == "div"
        elif tag == "div" and ("class", "text") in attrs:
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.depth and tag in ("span", "div"):
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def article_texts(page: str) -> list[str]:
    parser = ArticleText()
    parser.feed(page)
    return parser.texts


def test_article_text_reads_exactly_as_the_original(docs):
    assert article_texts(render_report(docs)) == [d["text"] for d in docs]


def test_every_sentence_appears(docs):
    texts = article_texts(render_report(docs))
    for doc, shown in zip(docs, texts, strict=True):
        for s in doc["sentences"]:
            assert s["text"] in shown


def test_flagged_sentences_carry_their_most_probable_technique(docs):
    page = render_report(docs)
    span = re.search(r'<span class="s hl t-(\w+)"[^>]*>(?:<mark [^>]*>)?Jobs, jobs', page)
    assert span and span.group(1) == "repetition"  # 0.9 beats slogans' 0.58
    tags = re.search(r"Jobs, jobs.*?</span></span>", page[span.start() :], re.S).group(0)
    assert 'class="tag t-repetition"' in tags and 'class="tag t-slogans"' in tags
    assert f".t-repetition {{ --c: {COLOURS['repetition']};" in page
    unflagged = re.search(r'<span class="s" [^>]*>The budget vote is on Thursday', page)
    assert unflagged, "an unflagged sentence is not highlighted"


def test_every_technique_has_its_own_colour():
    assert set(COLOURS) == set(technique_ids())
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_hostile_ids_and_text_are_escaped():
    text = 'Say <script>alert(1)</script> & "quote" now.'
    doc = {"id": "<script>alert(1)</script>", "text": text, "sentences": []}
    page = render_report([doc], title="<b>t</b>", model_name="<img src=x onerror=alert(1)>")
    assert "<script>alert(1)" not in page and "<img" not in page and "<b>t</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert article_texts(page) == [text]


def test_no_external_resources(docs):
    page = render_report(docs, model_name="baseline-v3")
    assert not re.search(r"https?://|src=|@import|url\(", page)


def test_empty_run_says_no_documents():
    page = render_report([])
    assert "No documents." in page and "</html>" in page


def test_header_toc_and_unflagged_articles(docs):
    quiet = {"id": "weather", "text": "Rain today.", "sentences": []}
    page = render_report([*docs, quiet], title="Week 12", model_name="baseline-v3")
    assert "<h1>Week 12</h1>" in page and "baseline-v3" in page
    assert '<a href="#doc-1">council-budget.txt</a>' in page
    assert '<a href="#doc-3">weather</a> <span class="muted">0 of 0 sentences' in page
    assert 'id="doc-3"' in page


def test_hundreds_of_articles(docs):
    many = [dict(docs[i % 2], id=f"article-{i}") for i in range(400)]
    page = render_report(many)
    assert page.count("<article ") == 400 and 'href="#doc-400"' in page


def run_chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    return subprocess.run(
        [chromium, *flags, *args], capture_output=True, text=True, timeout=60, check=True
    )


def test_in_a_real_browser(docs, tmp_path):
    """Chromium renders the page, and a click opens the box with all 16 scores."""
    page = render_report(docs, title="propscan report: demo", model_name="baseline-v3")
    click = "<script>document.querySelector('.s.hl').click()</script></body>"
    report = tmp_path / "report.html"
    report.write_text(page.replace("</body>", click), encoding="utf-8")
    png = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,1600", report.as_uri())
    assert png.is_file() and png.stat().st_size > 10_000

    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "council-budget.txt" in dom and "pipeline-approved" in dom
    box = re.search(r'<span class="details">.*?</table></span>', dom, re.S)
    assert box and box.group(0).count("<tr") == len(technique_ids())


def test_spans_mark_the_words_in_a_real_browser(docs, tmp_path):
    """The words of each span are marked, overlapping spans stacked, with names on hover."""
    report = tmp_path / "report.html"
    report.write_text(render_report(docs), encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    marks = re.findall(r'<mark class="sp" style="([^"]*)" title="([^"]*)">([^<]*)</mark>', dom)
    # "Either we stop": black_and_white over 10 characters, appeal_to_fear over 16
    either = [m for m in marks if m[2] in ("Either we ", "stop t")]
    assert [m[2] for m in either] == ["Either we ", "stop t"]
    first, second = either
    assert first[1] == "Black-and-white fallacy: 85%\nAppeal to fear, prejudice: 52%"
    assert second[1] == "Appeal to fear, prejudice: 52%"
    assert first[0].count("linear-gradient") == 2 and second[0].count("linear-gradient") == 1
    assert COLOURS["black_and_white"] in first[0] and COLOURS["appeal_to_fear"] in second[0]
    # every span's words are marked; sentences without spans have none
    n_spans = sum(len(s["spans"]) for d in docs for s in d["sentences"])
    assert n_spans and len(marks) >= n_spans


def cie76(a: str, b: str) -> float:
    """Colour difference in CIE L*a*b* (sRGB, D65): about 2.3 is just noticeable."""

    def lab(hex_colour: str) -> tuple[float, float, float]:
        srgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb]
        xyz = (
            (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
            0.2126 * r + 0.7152 * g + 0.0722 * b,
            (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
        )
        fx, fy, fz = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in xyz]
        return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)

    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def test_technique_colours_are_far_apart():
    """Every pair of technique colours differs clearly (the old palette had pairs at 14)."""
    pairs = [(a, b) for a in COLOURS for b in COLOURS if a < b]
    closest = min(pairs, key=lambda p: cie76(COLOURS[p[0]], COLOURS[p[1]]))
    assert cie76(COLOURS[closest[0]], COLOURS[closest[1]]) >= 25, closest


def test_failed_inputs_are_listed_with_their_reasons(docs):
    errors = [
        InputError("in/latin1.txt", "not UTF-8 text (line 1, byte 3)"),
        InputError("in/rows.csv:7", "empty document"),
    ]
    page = render_report(docs, errors=errors)
    failed = re.search(r'<section class="failed">.*?</section>', page, re.S).group(0)
    assert "Inputs not scored (2)" in failed
    assert "<td>in/latin1.txt</td><td>not UTF-8 text (line 1, byte 3)</td>" in failed
    assert "<td>in/rows.csv:7</td><td>empty document</td>" in failed
    assert 'class="failed"' not in render_report(docs)


HOSTILE = [
    "<script>document.title='pwned'</script>",
    "</script><script>document.title='pwned'</script>",
    "</style><script>document.title='pwned'</script>",
    '"onerror="document.title=\'pwned\'" x="',
    "<img src=x onerror=\"document.body.append(Object.assign(document.createElement('p'), "
    "{id: 'pwned'}))\">",
    "</textarea></title><svg onload=\"document.title='pwned'\">",
]


def test_hostile_text_ids_and_names_are_shown_never_run(tmp_path):
    """A report whose every string is an attack: no script of it runs in Chromium, and
    each attack shows on the page as the text it is."""
    from data.techniques import Technique

    attack = " ".join(HOSTILE)
    text = f"{attack}\n{attack} is flagged."
    sentences = [
        {"sent_idx": 0, "start": 0, "end": len(attack), "text": attack, "techniques": [],
         "probabilities": {}},
        {"sent_idx": 1, "start": len(attack) + 1, "end": len(text), "text": text[len(attack) + 1 :],
         "techniques": [attack, "doubt"], "probabilities": {attack: 0.9, "doubt": 0.8}},
    ]  # fmt: skip
    techniques = (Technique(attack, attack, attack, None, ""), *load_techniques())
    page = render_report(
        [{"id": attack, "text": text, "sentences": sentences}],
        title="report " + HOSTILE[2],
        model_name=attack,
        errors=[InputError(attack, attack)],
        techniques=techniques,
    )
    report = tmp_path / "hostile.html"
    report.write_text(page, encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    elements = Elements()
    elements.feed(dom)
    assert elements.title == "report " + HOSTILE[2]  # no script set the title
    assert [t for t, _ in elements.tags].count("script") == 2  # the page's own two
    attributes = {name for _, attrs in elements.tags for name, _ in attrs}
    assert not attributes & {"onerror", "onload"}  # no handler became an attribute
    assert ("id", "pwned") not in {a for _, attrs in elements.tags for a in attrs}
    shown = " ".join(article_texts(dom))
    assert all(h in shown for h in HOSTILE)  # shown as text, as written
    legend = re.search(r'<ul class="legend">.*?</ul>', dom, re.S).group(0)
    assert html.escape(attack, quote=False) in legend


class Elements(HTMLParser):
    """Every element's tag and attributes, and the page title, as parsed."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.title, self.in_title = "", False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self.in_title = tag == "title"

    def handle_endtag(self, tag):
        self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
