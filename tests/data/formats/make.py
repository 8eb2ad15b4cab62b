#!/usr/bin/env python3
"""Makes the fixtures of src/formats/*: the seed article as a PDF, a saved web page and a
Word file, each carrying the article's title, author and date in its own metadata, and the
shapes that break naive readers (two columns, footnotes with a hyphenated paragraph running
over a page break, a page with a long comments section, a Word table).

    pip install fpdf2 python-docx      # and Debian's fonts-dejavu-core for the PDF fonts
    python3 tests/data/formats/make.py

Photo captions (CAPTIONS) are marked as each format marks them, and the PDF also opens with
a title and a byline in the title block, as articles saved as PDF do.

The PDFs are laid out line by line here (not by fpdf2's own wrapping) so that where lines
break, which words are hyphenated and where a page ends are known and asserted.
"""
import datetime
import html
import json
import os
import random

from fpdf import FPDF
import docx
from docx.shared import Pt

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "..", "..", "..", "knowledge", "russias-afghanistan-strategy.txt")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"

TITLE = "Russia's Afghanistan Strategy"
SUBTITLE = "How Moscow Is Preparing to Go It Alone"
AUTHOR = "Julia Gurganus"
DATE = datetime.datetime(2018, 1, 2, 9, 30, tzinfo=datetime.timezone.utc)
PUBLICATION = "Foreign Affairs"
URL = "https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy"


def seed_paragraphs():
    """The seed's body without its +++ header: one paragraph a non-empty line."""
    text = open(SEED, encoding="utf-8").read()
    _, _, body = text.split("+++", 2)
    return [line.strip() for line in body.splitlines() if line.strip()]


# The seed's lines that are photo captions (each given twice, as the site gives them). Each
# format marks them its own way: a <figcaption>, Word's Caption style, and in the PDF the
# smaller italic type captions are set in.
CAPTIONS = (0, 1, 9, 10)


# ---------------------------------------------------------------------------------- PDF


class Doc(FPDF):
    """An A4 page with a running head, a page-number footer and hand-placed lines."""

    def __init__(self, head=None, foot="Page {n}", head_on_first=True):
        super().__init__(format="A4", unit="pt")
        self.add_font("Serif", "", os.path.join(FONT_DIR, "DejaVuSerif.ttf"))
        self.add_font("Serif", "B", os.path.join(FONT_DIR, "DejaVuSerif-Bold.ttf"))
        self.add_font("Sans", "", os.path.join(FONT_DIR, "DejaVuSans.ttf"))
        self.set_auto_page_break(False)
        self.head = head
        self.foot = foot
        self.head_on_first = head_on_first
        self.left, self.right, self.top, self.bottom = 72, 595 - 72, 80, 842 - 80
        self.y_pos = self.top
        self.footnotes = []  # (number, text) to set at this page's foot

    def new_page(self):
        if self.page:
            self.finish_page()
        self.add_page()
        n = self.page
        if self.head and (n > 1 or self.head_on_first):
            self.set_font("Sans", "", 8)
            self.text(self.left, 50, self.head)
        self.set_font("Sans", "", 8)
        label = self.foot.format(n=n)
        self.text((595 - self.get_string_width(label)) / 2, 842 - 40, label)
        self.y_pos = self.top

    def finish_page(self):
        if not self.footnotes:
            return
        y = self.bottom + 14
        self.line(self.left, y - 10, self.left + 120, y - 10)
        self.set_font("Serif", "", 7.5)
        for number, note in self.footnotes:
            for i, line in enumerate(wrap(self, note, self.right - self.left - 10)):
                self.text(self.left + (0 if i == 0 else 8), y, (f"{number} " if i == 0 else "") + line)
                y += 9
        self.footnotes = []


def wrap(pdf, text, width, hyphenate=False):
    """Greedy line breaking at spaces; with `hyphenate`, a long plain word that does not
    fit is split with a hyphen (never a word that already has a hyphen or dash in it, so
    that joining a hyphenated line end is always right)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if pdf.get_string_width(candidate) <= width:
            line = candidate
            continue
        if hyphenate and word.isalpha() and len(word) >= 8:
            for cut in range(len(word) - 3, 2, -1):
                head = f"{line} {word[:cut]}-" if line else f"{word[:cut]}-"
                if pdf.get_string_width(head) <= width:
                    lines.append(head)
                    line = word[cut:]
                    break
            else:
                lines.append(line)
                line = word
            continue
        lines.append(line)
        line = word
    if line:
        lines.append(line)
    return lines


def set_lines(pdf, lines, x, width, size, leading, justify=False, on_line=None, style=""):
    """Places `lines` from pdf.y_pos down, starting a new page at the bottom margin; a
    justified line is set word by word (as typesetters write it: no space characters)."""
    for i, line in enumerate(lines):
        if pdf.y_pos + leading > pdf.bottom:
            pdf.new_page()
        pdf.y_pos += leading
        pdf.set_font("Serif", style, size)
        justify_line(pdf, line, x, pdf.y_pos, width, justify and i < len(lines) - 1)
        if on_line:
            on_line(pdf.page, line)


def justify_line(pdf, line, x, y, width, justify):
    """A justified line is set word by word, as typesetters write it: no space characters
    between the words, only their positions."""
    if justify and " " in line:
        words = line.split(" ")
        gap = (width - sum(pdf.get_string_width(w) for w in words)) / (len(words) - 1)
        for w in words:
            pdf.text(x, y, w)
            x += pdf.get_string_width(w) + gap
    else:
        pdf.text(x, y, line)


def info(pdf):
    pdf.set_title(TITLE)
    pdf.set_author(AUTHOR)
    pdf.set_creation_date(DATE)
    pdf.set_creator("tests/data/formats/make.py")


def title_block(pdf, title, byline):
    pdf.set_font("Serif", "B", 20)
    pdf.y_pos += 20
    pdf.text(pdf.left, pdf.y_pos, title)
    pdf.set_font("Serif", "", 10)
    pdf.y_pos += 22
    pdf.text(pdf.left, pdf.y_pos, byline)
    pdf.y_pos += 18


def article_pdf(paragraphs):
    pdf = Doc(head=f"{PUBLICATION} · {TITLE}", foot="Page {n}")
    # Only this file sets captions: the other PDFs embed no italic.
    pdf.add_font("Serif", "I", os.path.join(FONT_DIR, "DejaVuSerif-Italic.ttf"))
    info(pdf)
    pdf.new_page()
    title_block(pdf, TITLE, f"{SUBTITLE} — By {AUTHOR}, January 2, 2018")
    width = pdf.right - pdf.left
    for i, p in enumerate(paragraphs):
        if i in CAPTIONS:
            # As magazines set them: smaller, italic, ragged right.
            pdf.set_font("Serif", "I", 9)
            set_lines(pdf, wrap(pdf, p, width), pdf.left, width, 9, 12, style="I")
        else:
            pdf.set_font("Serif", "", 10.5)
            set_lines(pdf, wrap(pdf, p, width, hyphenate=True), pdf.left, width, 10.5, 14, justify=True)
        pdf.y_pos += 8
    pdf.finish_page()
    pdf.output(os.path.join(HERE, "article.pdf"))
    return pdf.page


TWO_COLUMN = [
    # Left column, then right: four of the seed's paragraphs, distinct and in reading order.
    3, 4, 7, 8,
]


def two_column_pdf(paragraphs):
    pdf = Doc(head=None, foot="{n}")
    info(pdf)
    pdf.new_page()
    title_block(pdf, "Two columns", "A page set in two columns")
    top = pdf.y_pos
    gutter = 20
    col = (pdf.right - pdf.left - gutter) / 2
    pdf.set_font("Serif", "", 8.5)
    # Each column as (y, line, last line of its paragraph), then written row by row, left
    # line then right line, as some typesetters do: the content stream's order is not the
    # reading order, so a reader has to find the columns itself.
    columns = []
    for ids in (TWO_COLUMN[:2], TWO_COLUMN[2:]):
        y, rows = top, []
        for i in ids:
            lines = wrap(pdf, paragraphs[i], col, hyphenate=True)
            for k, line in enumerate(lines):
                y += 11
                rows.append((y, line, k == len(lines) - 1))
            y += 7
        assert y < pdf.bottom, "a column ran off the page"
        columns.append(rows)
    for r in range(max(len(c) for c in columns)):
        for c, rows in enumerate(columns):
            if r < len(rows):
                y, line, last = rows[r]
                x = pdf.left + c * (col + gutter)
                justify_line(pdf, line, x, y, col, justify=not last)
    pdf.output(os.path.join(HERE, "two-column.pdf"))


FOOTNOTES_TEXT = [
    "Footnotes, a running head and a paragraph that runs over a page break.",
    "Moscow has already launched several efforts at diplomacy, and it has done so on its "
    "own terms.1 Between December 2016 and April 2017, Russia hosted three rounds of talks "
    "involving China, Iran, and Pakistan, and later Afghanistan and the Central Asian "
    "republics. Its officials describe these negotiations as the only forum in which every "
    "neighbour of Afghanistan sits at one table, and they stress that no outside power "
    "brought them together.",
    "Russia's approach in Afghanistan replicates some of the elements of its successful "
    "Syria strategy.2 In both countries, Russia has taken advantage of perceptions of a "
    "weakened and faltering United States to insert itself as an alternative power broker "
    "and to gain leverage in its relationship with Washington. Moscow is trying to "
    "establish itself as an indispensable intermediary whose cooperation is needed to "
    "bring stability to the region, using bilateral relationships, multilateral "
    "institutions and carefully staged conferences to widen its influence over the "
    "outcome of any settlement and to make sure that whatever government emerges in Kabul "
    "owes something to Moscow. Russian diplomats have been careful to present these "
    "initiatives as complementary to international efforts rather than competing with "
    "them, although the practical effect has been to create parallel channels of "
    "communication that bypass Washington altogether and that give the Kremlin "
    "considerable discretion over who is invited, what is discussed and how the "
    "resulting declarations are characterized in Russian and regional media. Analysts in "
    "the region have noted that the format allows Moscow to claim credit for any progress "
    "while avoiding blame for the disappointingly frequent setbacks that follow each round of "
    "consultations, and that it has become a template for Russian engagement elsewhere.",
    "Afghanistan is in such a bad way that there is much on which Russia and the United "
    "States could cooperate.3 There are terrorist groups to defeat, a national military to "
    "train and equip, an economy and infrastructure to develop, and a narcotics trade to "
    "uproot.",
]
FOOTNOTES = {
    1: "Interview with a Russian diplomat, Moscow, March 2017.",
    2: "On the Syrian precedent, see the author's earlier analysis of Russian intervention "
       "strategies, published by the Carnegie Endowment for International Peace in 2017.",
    3: "U.S. Department of Defense, Enhancing Security and Stability in Afghanistan, 2017.",
}


def footnotes_pdf():
    pdf = Doc(head="Footnotes Fixture — Russia in Afghanistan", foot="{n}", head_on_first=True)
    info(pdf)
    pdf.bottom = 842 - 330  # a short text block: room for the footnotes above the page number
    pdf.new_page()
    title_block(pdf, "Footnotes", AUTHOR)
    width = pdf.right - pdf.left
    broken = []

    def note_footnotes(page, line):
        for n, note in FOOTNOTES.items():
            if f"{n} " in line.replace(".", " ").replace(",", " ") or line.endswith(f"{n}"):
                if any(k == n for k, _ in pdf.footnotes) or (n in noted):
                    continue
                noted.add(n)
                pdf.footnotes.append((n, note))

    noted = set()
    for p in FOOTNOTES_TEXT:
        pdf.set_font("Serif", "", 11)
        lines = wrap(pdf, p, width, hyphenate=True)
        start = pdf.page
        set_lines(pdf, lines, pdf.left, width, 11, 15, on_line=note_footnotes)
        if pdf.page != start:
            broken.append(p)
            # The line that ends page 1 is hyphenated: the word and the paragraph both
            # run over the page break.
            assert [l for l in lines if l.endswith("disappoin-")], "re-tune the long paragraph"
        pdf.y_pos += 10
    pdf.finish_page()
    assert broken, "no paragraph runs over a page break: lengthen the long one"
    pdf.output(os.path.join(HERE, "footnotes.pdf"))
    return broken


def scan_pdf():
    """A page with only drawings on it: what a scan without OCR looks like to a reader."""
    pdf = FPDF(format="A4", unit="pt")
    pdf.add_page()
    for i in range(30):
        pdf.rect(72, 80 + i * 22, 400 - (i % 5) * 40, 10, style="F")
    pdf.output(os.path.join(HERE, "scan.pdf"))


def encrypted_pdf():
    pdf = FPDF(format="A4", unit="pt")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.text(72, 100, "A locked page: this text is behind a password.")
    pdf.output(os.path.join(HERE, "encrypted.pdf"))


# --------------------------------------------------------------------------------- HTML

COMMENTS = [
    ("steppe_watcher", "This is the most one-sided analysis of Moscow's motives I have read in "
     "years, and the comment section deserves a longer answer than the article itself gave."),
    ("kabul_veteran", "I served two tours near Mazar-i-Sharif and the helicopters mattered far more "
     "than anyone in Washington admitted at the time; the spare parts question was decisive."),
    ("realist1989", "Everyone forgets that the Soviet withdrawal was followed by three years in "
     "which Najibullah held on, which says something about what outside money can buy."),
    ("anonymous_reader", "Would love a follow-up on the Central Asian republics and the "
     "drug routes north through Tajikistan, which the article only mentions in passing."),
]


def article_html(paragraphs, comments_count=4, name="article.html", charset="utf-8"):
    body = "\n".join(
        f"<figure><img src=\"photo.jpg\" alt=\"\"><figcaption>{html.escape(p)}</figcaption></figure>"
        if i in CAPTIONS
        else f"<p>{html.escape(p)}</p>"
        for i, p in enumerate(paragraphs)
    )
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": TITLE,
        "author": {"@type": "Person", "name": AUTHOR},
        "datePublished": "2018-01-02T09:30:00Z",
        "publisher": {"@type": "Organization", "name": PUBLICATION},
    }
    comments = []
    for i in range(comments_count):
        who, text = COMMENTS[i % len(COMMENTS)]
        text = text if i < len(COMMENTS) else f"Reply {i}: {text}"
        comments.append(
            f'<li class="comment"><div class="comment-author">{who}</div>'
            f'<div class="comment-body"><p>{html.escape(text)}</p></div>'
            f'<a class="reply" href="#c{i}">Reply</a></li>'
        )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="{charset}">
<title>{html.escape(TITLE)} | {PUBLICATION}</title>
<meta property="og:title" content="{html.escape(TITLE)}">
<meta property="og:site_name" content="{PUBLICATION}">
<meta property="og:url" content="{URL}">
<meta name="author" content="{AUTHOR}">
<meta property="article:published_time" content="2018-01-02T09:30:00Z">
<link rel="canonical" href="{URL}">
<script type="application/ld+json">{json.dumps(ld)}</script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
<style>body {{ font-family: serif; }} .ad {{ height: 250px; }}</style>
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{PUBLICATION}</a>
  <nav class="main-nav"><ul>
    <li><a href="/regions">Regions</a></li><li><a href="/topics">Topics</a></li>
    <li><a href="/magazine">Magazine</a></li><li><a href="/subscribe">Subscribe to the print edition and save half on every issue</a></li>
  </ul></nav>
</header>
<div class="ad" id="ad-top">Advertisement: Travel to Central Asia with our partner tours this spring and save on every booking</div>
<main>
<article class="article">
  <h1 class="article-title">{html.escape(TITLE)}</h1>
  <h2 class="dek">{html.escape(SUBTITLE)}</h2>
  <div class="byline">By <a rel="author" href="/authors/julia-gurganus">{AUTHOR}</a>,
    <time datetime="2018-01-02T09:30:00Z">January 2, 2018</time></div>
  <div class="article-body">
{body}
  </div>
</article>
<aside class="newsletter-signup">
  <h3>Get the newsletter</h3>
  <p>Sign up for our weekly newsletter and receive the best analysis of world affairs in your inbox every Friday morning.</p>
  <form><input type="email" placeholder="Email"><button>Sign up</button></form>
</aside>
<aside class="related-articles">
  <h3>Related articles</h3>
  <ul>
    <li><a href="/a1">The Taliban's Return and What Comes Next for the Region and Its Neighbours</a></li>
    <li><a href="/a2">Why Central Asia Fears a Collapse in Kabul More Than Anyone Else Does</a></li>
    <li><a href="/a3">Moscow's Middle East Gambit and the Limits of Russian Power Abroad</a></li>
  </ul>
</aside>
<section class="comments" id="comments">
  <h3>Comments ({comments_count})</h3>
  <ol class="comment-list">
  {"".join(comments)}
  </ol>
</section>
</main>
<footer class="site-footer">
  <p>Copyright 2018 by the Council on Foreign Relations, Inc. All rights reserved. Privacy policy and terms of use apply to every page of this site.</p>
  <nav><a href="/about">About us</a> <a href="/contact">Contact</a> <a href="/careers">Careers</a></nav>
</footer>
<script>document.querySelectorAll('.ad').forEach(function (el) {{ el.dataset.loaded = 'true'; }});</script>
</body>
</html>
"""
    with open(os.path.join(HERE, name), "w", encoding=charset) as f:
        f.write(page)


def comments_html(paragraphs):
    # A short article under a comments section that is several times longer: a reader
    # that picks the block with the most text picks the comments.
    article_html(paragraphs[4:8], comments_count=40, name="comments.html")


# --------------------------------------------------------------------------------- DOCX


def core(document, title):
    props = document.core_properties
    props.title = title
    props.author = AUTHOR
    props.created = DATE.replace(tzinfo=None)
    props.modified = DATE.replace(tzinfo=None)


def article_docx(paragraphs):
    d = docx.Document()
    core(d, TITLE)
    d.add_heading(TITLE, level=0)
    d.add_paragraph(SUBTITLE, style="Subtitle")
    for i, p in enumerate(paragraphs):
        if i in CAPTIONS:
            d.add_paragraph(p, style="Caption")
        elif i in (4, 6):
            # The section headings the web page has not: a Word file has them.
            d.add_heading(p, level=2)
        else:
            para = d.add_paragraph()
            # A paragraph in several runs, as Word saves an edited one.
            words = p.split(" ")
            half = len(words) // 2
            para.add_run(" ".join(words[:half]) + " ")
            para.add_run(" ".join(words[half:])).italic = i % 3 == 0
    d.save(os.path.join(HERE, "article.docx"))


def table_docx():
    d = docx.Document()
    core(d, "Russian diplomacy on Afghanistan, 2016-2017")
    d.add_heading("Russian diplomacy on Afghanistan", level=1)
    d.add_paragraph("Moscow hosted several rounds of talks on Afghanistan between December 2016 and April 2017.")
    d.add_paragraph("Table 1. Rounds of the Moscow talks", style="Caption")
    rows = [
        ("Round", "Date", "Participants"),
        ("First", "December 2016", "China, Pakistan"),
        ("Second", "February 2017", "China, Iran, Pakistan, Afghanistan, India"),
        ("Third", "April 2017", "Central Asian republics joined"),
    ]
    t = d.add_table(rows=len(rows), cols=3)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            t.cell(r, c).text = cell
    d.add_paragraph("The United States declined the invitation to the third round.")
    d.save(os.path.join(HERE, "table.docx"))


if __name__ == "__main__":
    random.seed(7)
    paras = seed_paragraphs()
    pages = article_pdf(paras)
    two_column_pdf(paras)
    broken = footnotes_pdf()
    scan_pdf()
    encrypted_pdf()
    article_html(paras)
    comments_html(paras)
    article_docx(paras)
    table_docx()
    print(f"article.pdf: {pages} pages; over a page break in footnotes.pdf: {broken[0][:60]}...")
