"""Bytes to text: encoding detected (BOM, declared charset, meta charset, charset-normalizer),
never assumed; binary junk and undecodable text are InputErrors."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from clausewatch.core.errors import InputError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x7fELF", "an executable"),
    (b"RIFF", "a RIFF media file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
# WHATWG: these labels mean windows-1252 in practice.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso8859-1": "cp1252",
    "l1": "cp1252",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        if codec == "cp1252":  # undefined cp1252 bytes: latin-1 is what remains
            return body.decode("latin-1")
        return None
    if codec.startswith(("utf-16", "utf-32")) and text.startswith("\ufeff"):
        text = text[1:]
    return text


def sniff_binary(body: bytes) -> str | None:
    """A short description if ``body`` is a known binary format, else None."""
    for magic, what in _MAGIC:
        if body.startswith(magic):
            return what
    return None


def decode_bytes(body: bytes, declared: str | None = None, *, html: bool = False) -> str:
    """Decode ``body``. Order: BOM, declared charset, HTML meta charset, UTF-8, detection."""
    if not body.strip():
        raise InputError("empty document")
    what = sniff_binary(body)
    if what:
        raise InputError(f"binary content ({what}), not a document")
    text: str | None = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _try(body, codec)
            if text is None:
                raise InputError(f"undecodable text: invalid {codec} after a byte-order mark")
            break
    declared_codec = _codec(declared)
    wide = bool(declared_codec and declared_codec.startswith(("utf-16", "utf-32")))
    if text is None and b"\x00" in body[:4096] and not wide:
        raise InputError("binary content (NUL bytes), not a text document")
    if text is None:
        text = _try(body, declared_codec)
    if text is None and html:
        m = _META_CHARSET.search(body[:8192])
        if m:
            meta_codec = _codec(m.group(1).decode("ascii", "replace"))
            if meta_codec and meta_codec.startswith(("utf-16", "utf-32")):
                meta_codec = "utf-8"  # WHATWG: a meta tag cannot declare a wide encoding
            text = _try(body, meta_codec)
    if text is None:
        text = _try(body, "utf-8")
    if text is None:
        best = from_bytes(body).best()
        if best is None:
            raise InputError("undecodable text: no character encoding fits these bytes")
        text = str(best)
    sample = text[:100_000]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise InputError("binary or corrupt content (too many control characters)")
    return text
