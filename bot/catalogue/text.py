"""Plain text from the HTML of service directories (DLDB descriptions and fees).

Pure functions, no I/O. Built on the standard library's :mod:`html.parser`, which never raises on
broken markup: unclosed tags, stray end tags and unknown entities all yield text.

Rendering rules of :func:`html_to_text`:

- paragraphs, headings and lists are blocks separated by one blank line;
- list items become ``- item`` lines (nested lists are indented by two spaces);
- ``<br>`` becomes a line break; other whitespace collapses to single spaces;
- entities are decoded; no-break spaces become spaces; zero-width and soft-hyphen characters
  vanish;
- links keep their text only. URLs are not inlined: the text is embedded for retrieval and read
  aloud by the voice channel, where a URL is noise. :func:`html_links` returns them separately.

Headings (:func:`html_sections`): ``<h1>``-``<h6>``, and paragraph lines that consist only of bold
text (``<p><strong>Gültigkeitsdauer</strong></p>``, or a bold first line followed by ``<br>``),
as DLDB editors write them. A bold line is a heading only when it is short and does not end like
a sentence (``.``/``!``); an emphasised sentence stays body text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

__all__ = ["Link", "Section", "html_links", "html_sections", "html_to_text", "normalise_space"]

# Block-level elements: their start and end close the running paragraph.
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "address",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "dl", "dt", "dd", "hr", "figure",
    "figcaption", "main", "aside", "nav", "form", "fieldset",
})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LIST_TAGS = frozenset({"ul", "ol"})
_BOLD_TAGS = frozenset({"strong", "b"})
# Content of these elements is never text.
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a\t\r\f\v"), " ")
_RUNS_OF_SPACE = re.compile(r"[ \n]+")
_LINE_SPACE = re.compile(r" {2,}")

# A bold line longer than this, or ending like a sentence, is emphasis, not a heading.
MAX_HEADING_CHARS = 120
_SENTENCE_END = (".", "!", "…")


def normalise_space(text: str) -> str:
    """Drop invisible characters, turn exotic spaces into plain ones, collapse runs."""
    text = text.translate(_INVISIBLE).translate(_SPACES)
    return _RUNS_OF_SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Section:
    """A part of a text under one heading.

    ``text`` is the section's body rendered like :func:`html_to_text` (list items included as
    ``- item`` lines); ``items`` are the list items alone, in order.
    """

    heading: str | None
    text: str
    items: tuple[str, ...] = ()


# --- parsing into blocks ------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    """One visual line of a block; ``bold`` counts characters set in bold."""

    text: str = ""
    bold: int = 0

    @property
    def all_bold(self) -> bool:
        visible = len(self.text.replace(" ", ""))
        return visible > 0 and self.bold >= visible


@dataclass(slots=True)
class _Block:
    kind: Literal["para", "heading", "item"]
    lines: list[_Line] = field(default_factory=lambda: [_Line()])
    depth: int = 0

    def add(self, text: str, *, bold: bool) -> None:
        line = self.lines[-1]
        line.text += text
        if bold:
            line.bold += len(text.replace(" ", ""))

    def is_empty(self) -> bool:
        return not any(line.text.strip() for line in self.lines)


class _BlockParser(HTMLParser):
    """Turns HTML into a flat list of paragraph, heading and list-item blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.links: list[Link] = []
        self._current: _Block | None = None
        self._list_depth = 0
        self._item_depth = 0
        self._bold = 0
        self._skip = 0
        self._heading = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    # -- helpers
    def _flush(self) -> None:
        if self._current is not None and not self._current.is_empty():
            self.blocks.append(self._current)
        self._current = None

    def _block(self) -> _Block:
        if self._current is None:
            kind: Literal["para", "heading", "item"] = "heading" if self._heading else "para"
            self._current = _Block(kind)
        return self._current

    # -- HTMLParser interface
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "br":
            if self._current is not None:
                self._current.lines.append(_Line())
        elif tag in _BOLD_TAGS:
            self._bold += 1
        elif tag == "a":
            self._href = dict(attrs).get("href") or None
            self._link_text = []
        elif tag in _LIST_TAGS:
            self._flush()
            self._list_depth += 1
        elif tag == "li":
            self._flush()
            self._item_depth += 1
            self._current = _Block("item", depth=max(self._list_depth - 1, 0))
        elif tag in _HEADING_TAGS:
            self._flush()
            self._heading += 1
        elif tag in _BLOCK_TAGS:
            if self._item_depth and self._current is not None:
                # A paragraph inside a list item stays part of the item.
                self._current.add(" ", bold=False)
            else:
                self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_starttag(tag, attrs)
        elif tag in _BLOCK_TAGS and not self._item_depth:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(self._skip - 1, 0)
        elif tag in _BOLD_TAGS:
            self._bold = max(self._bold - 1, 0)
        elif tag == "a":
            if self._href is not None:
                text = normalise_space("".join(self._link_text))
                self.links.append(Link(text=text, url=self._href.strip()))
            self._href = None
        elif tag in _LIST_TAGS:
            self._flush()
            self._list_depth = max(self._list_depth - 1, 0)
            self._item_depth = min(self._item_depth, self._list_depth)
        elif tag == "li":
            self._flush()
            self._item_depth = max(self._item_depth - 1, 0)
        elif tag in _HEADING_TAGS:
            self._flush()
            self._heading = max(self._heading - 1, 0)
        elif tag in _BLOCK_TAGS and not self._item_depth:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._href is not None:
            self._link_text.append(data)
        text = data.translate(_INVISIBLE).translate(_SPACES).replace("\n", " ")
        if not text:
            return
        if self._current is None and not text.strip():
            return  # whitespace between blocks
        self._block().add(text, bold=self._bold > 0)

    def close(self) -> None:
        super().close()
        self._flush()


_TAG = re.compile(r"<[A-Za-z!/]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def _plain_to_html(text: str) -> str:
    """Plain text (Berlin's DLDB descriptions use CRLF lines) keeps its paragraphs and lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = _BLANK_LINES.split(text)
    return "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in paragraphs)


def _parse(html: str) -> _BlockParser:
    if not _TAG.search(html):
        html = _plain_to_html(html)
    parser = _BlockParser()
    parser.feed(html)
    parser.close()
    return parser


# --- from blocks to text ------------------------------------------------------------------


def _clean(line: str) -> str:
    return _LINE_SPACE.sub(" ", line).strip()


def _is_heading_line(line: _Line) -> bool:
    text = _clean(line.text)
    return (line.all_bold and len(text) <= MAX_HEADING_CHARS
            and not text.endswith(_SENTENCE_END))


def _heading_text(text: str) -> str:
    return _clean(text).rstrip(":").rstrip()


def _item_text(block: _Block) -> str:
    """A list item on one line; a bold label line followed by ``<br>`` becomes ``label: rest``."""
    lines = [(line, _clean(line.text)) for line in block.lines]
    lines = [(line, text) for line, text in lines if text]
    out = ""
    for index, (line, text) in enumerate(lines):
        if not out:
            out = text
        elif index == 1 and lines[0][0].all_bold and not out.endswith((".", ":", "!", "?", ";")):
            out = f"{out}: {text}"
        else:
            out = f"{out} {text}"
    return out


@dataclass(frozen=True, slots=True)
class _Piece:
    """A rendered unit: a heading, a paragraph (may hold line breaks) or a list item."""

    kind: Literal["para", "heading", "item"]
    text: str
    depth: int = 0


def _pieces(blocks: list[_Block]) -> list[_Piece]:
    pieces: list[_Piece] = []
    for block in blocks:
        if block.kind == "item":
            text = _item_text(block)
            if text:
                pieces.append(_Piece("item", text, block.depth))
            continue
        if block.kind == "heading":
            text = " ".join(t for t in (_clean(line.text) for line in block.lines) if t)
            if text:
                pieces.append(_Piece("heading", text))
            continue
        # A paragraph: bold lines that look like headings become headings of their own.
        body: list[str] = []
        for line in block.lines:
            text = _clean(line.text)
            if not text:
                continue
            if _is_heading_line(line):
                if body:
                    pieces.append(_Piece("para", "\n".join(body)))
                    body = []
                pieces.append(_Piece("heading", text))
            else:
                body.append(text)
        if body:
            pieces.append(_Piece("para", "\n".join(body)))
    return pieces


def _render(pieces: list[_Piece]) -> str:
    chunks: list[str] = []
    previous: str | None = None
    for piece in pieces:
        if piece.kind == "item":
            line = "  " * piece.depth + "- " + piece.text
            if previous == "item":
                chunks[-1] += "\n" + line
            else:
                chunks.append(line)
        else:
            chunks.append(piece.text)
        previous = piece.kind
    return "\n\n".join(chunks)


# --- public API ---------------------------------------------------------------------------


def html_to_text(html: str | None) -> str:
    """Clean plain text from an HTML fragment; ``""`` for ``None``, empty or markup-only input."""
    if not html:
        return ""
    return _render(_pieces(_parse(html).blocks))


def html_sections(html: str | None) -> list[Section]:
    """Split an HTML fragment at its headings.

    Text before the first heading forms a section with ``heading=None``. Headings lose a trailing
    colon. A heading directly followed by another heading yields a section with empty text.
    """
    if not html:
        return []
    sections: list[Section] = []
    heading: str | None = None
    body: list[_Piece] = []
    started = False

    def close() -> None:
        if heading is None and not body:
            return
        items = tuple(p.text for p in body if p.kind == "item")
        sections.append(Section(heading=heading, text=_render(body), items=items))

    for piece in _pieces(_parse(html).blocks):
        if piece.kind == "heading":
            if started:
                close()
            heading, body, started = _heading_text(piece.text), [], True
        else:
            body.append(piece)
            started = True
    if started:
        close()
    return sections


def html_links(html: str | None) -> list[Link]:
    """The links of an HTML fragment in document order, with their cleaned text."""
    if not html:
        return []
    return _parse(html).links
