"""Cosmetic canonicalisation of clause text.

Two texts whose canonical forms are equal differ only cosmetically: white space and line
wrapping, quote and dash styles, Markdown emphasis, escapes and link targets, HTML entities and
line breaks, and the leading number or letter of a numbered heading or list item. Letter case,
words, numbers and punctuation otherwise count.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SPACE_CHARS = "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\t\r\n\f\v"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4`\u2039\u203a"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASH_CHARS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_ZERO_WIDTH: dict[int, str | None] = dict.fromkeys(map(ord, _ZERO_WIDTH_CHARS), None)
_SPACES: dict[int, str | None] = dict.fromkeys(map(ord, _SPACE_CHARS), " ")
_QUOTES: dict[int, str | None] = {
    **dict.fromkeys(map(ord, _SINGLE_QUOTES), "'"),
    **dict.fromkeys(map(ord, _DOUBLE_QUOTES), '"'),
}
_DASHES: dict[int, str | None] = dict.fromkeys(map(ord, _DASH_CHARS), "-")
_CHARMAP: dict[int, str | None] = {
    **_ZERO_WIDTH,
    **_SPACES,
    **_QUOTES,
    **_DASHES,
    ord("\u2026"): "...",
}


def _char_class(table: dict[int, str | None]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(chr(code)) for code in table) + "]")


_ZERO_WIDTH_RE = _char_class(_ZERO_WIDTH)
_CHARMAP_RE = _char_class(_CHARMAP)

# Markdown inline syntax that carries no words.
_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:[^()\s]++|\([^()]*\))*+(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(
    r"\[((?:[^\[\]]++|\[[^\]]*\])*+)\]\((?:[^()\s]++|\([^()]*\))*+(?:\s+\"[^\"]*\")?\s*\)"
)
_REF_LINK = re.compile(r"\[((?:[^\[\]]++|\[[^\]]*\])++)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]+)>", re.IGNORECASE)
_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_UNDERSCORES = re.compile(r"_+")
_DOUBLE_DASH = re.compile(r"-{2,}")
# A leading enumerator: "1.", "1.2.3", "(a)", "iv)", "A.", "Section 4.", "§ 3" ...
_ENUMERATOR = re.compile(
    r"(?:(?:section|article|clause|part|chapter|§)\s*)?"
    r"(?:\(?(?:\d+(?:\.\d+)*|[a-z]|[ivxlcdm]+)[.)]|\d+(?:\.\d+)+)"
    r"(?:\s*[-:]\s*|\s+)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"[\u2022\u2023\u25e6\u2043\u2219\u00b7\u25aa\u25cf\u25cb>\-+*]+\s*")
_WORD = re.compile(r"\w+(?:['.,]\w+)*|[^\w\s]")

_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    "july|august|september|october|november|december"
)
_DATE_LINE = re.compile(
    r"^\W*(?:last\s+(?:updated|update|modified|revised|changed|amended|reviewed)"
    r"|effective(?:\s+date)?|date\s+of\s+last\s+(?:update|revision)|updated(?:\s+on)?"
    r"|revised(?:\s+on)?|posted(?:\s+on)?|version\s+date|published(?:\s+on)?"
    r"|(?:privacy\s+policy|terms(?:\s+of\s+(?:service|use))?)\s+(?:last\s+)?updated)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})|"
    rf"(?:{_MONTHS})\.?\s+\d{{4}}|\d{{1,4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,4}})\b",
    re.IGNORECASE,
)
_DATE_LINE_MAX_WORDS = 30


def _translate(text: str, pattern: re.Pattern[str], table: dict[int, str | None]) -> str:
    # str.translate with a dict is slow on long texts; a character-class search is not.
    if text.isascii():
        return text
    return pattern.sub(lambda m: table[ord(m.group())] or "", text)


def _underscore(match: re.Match[str]) -> str:
    # "_" is emphasis unless it joins two word characters (user_id)
    text, start, end = match.string, match.start(), match.end()
    inside = start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
    return match.group() if inside else ""


def plain(text: str) -> str:
    """``text`` without Markdown syntax that carries no words, white space collapsed.

    Quote and dash styles are kept (see :func:`canonical` for the comparison form)."""
    if "<" in text:
        text = _HTML_BREAK.sub(" ", text)
        text = _AUTOLINK.sub(r"\1", text)
        text = _HTML_TAG.sub("", text)
    if "*" in text:
        text = text.replace("*", "")
    if "_" in text:
        text = _UNDERSCORES.sub(_underscore, text)
    if "[" in text:
        text = _IMAGE.sub(r"\1", text)
        text = _LINK.sub(r"\1", text)
        text = _REF_LINK.sub(r"\1", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii() and any(ch in text for ch in _ZERO_WIDTH_CHARS):
        text = _ZERO_WIDTH_RE.sub("", text)
    # str.split() splits on every Unicode space (NBSP, thin spaces ...) and line break
    return " ".join(text.split())


def normalise_chars(text: str) -> str:
    """Quote, dash, space and ellipsis styles made uniform."""
    text = _translate(text, _CHARMAP_RE, _CHARMAP)
    return _DOUBLE_DASH.sub("-", text) if "--" in text else text


def strip_enumerator(text: str) -> str:
    """Drop a leading list number/letter or bullet character (renumbering is not a change)."""
    stripped = text
    bullet = _BULLET.match(stripped)
    if bullet:
        stripped = stripped[bullet.end() :]
    enumerator = _ENUMERATOR.match(stripped)
    if enumerator:
        stripped = stripped[enumerator.end() :]
    return stripped if stripped.strip() else text


@lru_cache(maxsize=1 << 16)
def canonical(text: str) -> str:
    """The comparison form of a clause or heading: equal forms mean a cosmetic difference."""
    return strip_enumerator(normalise_chars(plain(text))).strip()


def words(text: str) -> list[str]:
    """Word and punctuation tokens of already-canonical text."""
    return _WORD.findall(text)


def is_date_line(text: str) -> bool:
    """A "Last updated ..."/"Effective date ..." line: its changes are not policy changes."""
    flat = canonical(text)
    if not _DATE_LINE.match(flat):
        return False
    if len(flat.split()) > _DATE_LINE_MAX_WORDS:
        return False
    return bool(_DATE.search(flat))
