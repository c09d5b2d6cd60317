"""Raw document bytes to normalised Markdown (HTML, PDF, Markdown / plain text).

The output is stable: the same input always gives the same text, so an unchanged page
yields an identical version hash.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import io
import json
import logging
import re
import sys
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypedDict, Unpack

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from markdownify import MarkdownConverter

from clausewatch.archive.decode import decode_bytes
from clausewatch.core.errors import InputError

DocKind = Literal["html", "pdf", "text"]

# Bump when the output of to_markdown / normalise_markdown changes for the same input. The
# normalisation key also covers this module's and archive.decode's source and the versions of
# the libraries below, so a forgotten bump or an upgrade still re-normalises.
NORMALISER_VERSION = 1
_NORMALISER_LIBRARIES = ("beautifulsoup4", "lxml", "markdownify", "pypdf", "charset-normalizer")

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/markdown", "text/x-markdown", "text/plain"})
# Elements that are never policy text.
NOISE = (
    "script, style, noscript, template, svg, canvas, iframe, object, embed, nav, "
    "button, input, select, textarea, link, meta, dialog, "
    "[hidden], [aria-hidden=true], [role=navigation], [role=banner], [role=contentinfo]"
)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[\u00a0\u2007\u202f\u2002\u2003\u2009]")
_TRAILING = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_BLANKS = re.compile(r"\n{3,}")


def normalise_markdown(text: str) -> str:
    """Canonical Markdown: NFC, \\n line ends, no invisible characters, no trailing spaces,
    at most one blank line in a row, one final newline. Idempotent."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    out = _BLANKS.sub("\n\n", _TRAILING.sub("", text)).strip("\n")
    if not out.strip():
        raise InputError("empty document (no text after normalisation)")
    return out + "\n"


def detect_kind(body: bytes, media_type: str, location: str = "") -> DocKind:
    """What the bytes are: the content itself wins over the declared type."""
    head = body[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if media_type == "application/pdf" or location.lower().endswith(".pdf"):
        return "pdf"  # claims to be a PDF but lacks the header: pypdf gives the error
    if media_type in HTML_TYPES:
        return "html"
    if media_type in TEXT_TYPES:
        return "text"
    lowered = location.lower().split("?", 1)[0]
    if lowered.endswith((".md", ".markdown", ".txt")):
        return "text"
    if lowered.endswith((".html", ".htm", ".xhtml")):
        return "html"
    probe = head[:512].lower()
    for marker in (b"<!doctype html", b"<html", b"<head", b"<body"):
        if marker in probe:
            return "html"
    return "text"  # other or unknown types: decoding decides whether it is text at all


class _Converter(MarkdownConverter):
    """markdownify with stable options: ATX headings, '-' bullets, images dropped."""

    def __init__(self) -> None:
        super().__init__(
            heading_style="ATX",
            bullets="-",
            strip=["img"],
            escape_misc=False,
            newline_style="BACKSLASH",
        )


def _drop(soup: BeautifulSoup | Tag, selector: str) -> None:
    for el in soup.select(selector):
        if isinstance(el, Tag) and not el.decomposed:
            el.decompose()


def html_to_markdown(html: str, select: Sequence[str] = (), remove: Sequence[str] = ()) -> str:
    """Keep the ``select`` parts (default: the single <main>, else <body>), drop ``remove``
    parts and page noise, convert to normalised Markdown."""
    try:
        return _html_to_markdown(html, select, remove)
    except RecursionError:
        raise InputError(
            "the HTML is nested too deeply to convert (hostile or broken page)"
        ) from None


def _html_to_markdown(html: str, select: Sequence[str], remove: Sequence[str]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    _drop(soup, NOISE)
    for sel in remove:
        _drop(soup, sel)
    roots: list[Tag]
    if select:
        found = [el for el in soup.select(", ".join(select)) if isinstance(el, Tag)]
        chosen = set(map(id, found))
        roots = [el for el in found if not any(id(p) in chosen for p in el.parents)]
        if not roots:
            raise InputError(
                f"the selector(s) {', '.join(select)} matched nothing: the page changed "
                "shape or is not the expected document"
            )
    else:
        mains = soup.find_all("main")
        if len(mains) == 1 and isinstance(mains[0], Tag):
            roots = [mains[0]]
        else:
            body = soup.body
            if body is not None:
                for chrome in body.find_all(["header", "footer"], recursive=False):
                    chrome.decompose()
            roots = [body if body is not None else soup]
    converter = _Converter()
    parts = [converter.convert_soup(root) for root in roots]
    return normalise_markdown("\n\n".join(parts))


def pdf_to_markdown(body: bytes) -> str:
    """Text of every page (pypdf), pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (
        PdfReadError,
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
        OSError,
    ) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"the PDF does not parse: {type(exc).__name__}: {detail}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise InputError("the PDF has no extractable text (scanned or empty)")
    return normalise_markdown(text)


class Reading(TypedDict, total=False):
    """How a raw document is read: the ``Content-Type`` header value (charset included), where
    it came from (a URL or path: its extension helps detect the kind), and the CSS selectors of
    the text to keep and of the parts to drop (HTML only). Every key is optional."""

    content_type: str
    location: str
    select: Sequence[str]
    remove: Sequence[str]


def to_markdown(body: bytes, **reading: Unpack[Reading]) -> str:
    """Normalised Markdown of a raw document."""
    content_type = reading.get("content_type", "")
    location = reading.get("location", "")
    select, remove = reading.get("select", ()), reading.get("remove", ())
    if not body.strip():
        raise InputError("empty document")
    media_type = content_type.split(";", 1)[0].strip().lower()
    charset = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    kind = detect_kind(body, media_type, location)
    if kind == "pdf":
        return pdf_to_markdown(body)
    text = decode_bytes(body, charset, html=kind == "html")
    if kind == "html":
        return html_to_markdown(text, select, remove)
    return normalise_markdown(text)


@functools.cache
def _normaliser_identity() -> str:
    """What, besides the input, decides ``to_markdown``'s output (computed once a process)."""
    parts = [f"v{NORMALISER_VERSION}", f"unicode={unicodedata.unidata_version}"]
    for dist in _NORMALISER_LIBRARIES:
        try:
            parts.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist}=?")
    for name in (__name__, decode_bytes.__module__):
        source = getattr(sys.modules.get(name), "__file__", None)
        try:
            code = Path(source).read_bytes() if source else b""
        except OSError:
            code = b""
        parts.append(f"{name}={hashlib.sha256(code).hexdigest()}")
    return "|".join(parts)


def normalisation_key(**reading: Unpack[Reading]) -> str:
    """A digest of everything besides the raw bytes that ``to_markdown`` depends on.

    The same raw bytes with the same key always give the same text, so tracking can skip
    normalising a body it already normalised.
    """
    payload = json.dumps(
        {
            "normaliser": _normaliser_identity(),
            "content_type": reading.get("content_type", ""),
            "location": reading.get("location", ""),
            "select": list(reading.get("select", ())),
            "remove": list(reading.get("remove", ())),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
