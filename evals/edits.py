"""Known edits and cosmetic perturbations of a real Markdown document, for tests and evals.

Known edits (:func:`modify`, :func:`one_word`, :func:`add`, :func:`remove`, :func:`move`) change
one clause each and say which change a correct diff must report. Cosmetic perturbations
(:func:`perturb` and the functions it draws from) change the text in ways that are *not*
changes: white space and wrapping, quote and dash styles, emphasis, link targets, "Last
updated" lines, renumbered headings and list items.

Every function takes a ``random.Random`` so a seed reproduces the result. Edits only touch
clauses that sit alone on one source line and whose canonical text occurs once, so where the
edit lands is unambiguous; :class:`NoCandidate` is raised when a document has no such clause.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from clausewatch.clauses.canonical import canonical, is_date_line
from clausewatch.clauses.segment import segment
from clausewatch.schemas.clauses import ClauseSeg
from clausewatch.schemas.vocabulary import ChangeKind

_BLANK = " \t\r"  # what Markdown counts as blank (not NBSP)
_MARKER = re.compile(r"^(\s*(?:[*+-]|\d{1,9}[.)])\s+)(.*)$")
_ORDERED = re.compile(r"^(\s*)(\d{1,9})([.)])(\s+)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$")
_HEADING_NUMBER = re.compile(r"^(#{1,6}\s+)?(\*\*)?(\d+)(\\?\.)")
_PROTECTED = re.compile(
    r"\]\((?:[^()]|\([^()]*\))*\)|<[^<>]*>|`[^`]*`|https?://\S+|\\.|&#?\w+;|\[[^\]]*\]\[[^\]]*\]|^\s*(?:[*+-]|\d+[.)])\s"
)
_PLAIN_WORD = re.compile(r"^[A-Za-z]+[.,;:]?$")
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")
_LINK_TARGET = re.compile(r"(?<!\\)\]\(((?:[^()\s]|\([^()\s]*\))+)")
_WORD = re.compile(r"(?<![\w*_\\\[])([A-Za-z]{4,})(?![\w*_\]])")
_DATE_VALUE = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}/\d{1,2}/\d{2,4}",
    re.IGNORECASE,
)

# Sentences written for these edits (not taken from any policy).
_ADDED_CLAUSES = (
    "We may share your voice recordings with our research partners in {place} for up to "
    "{n} months to train new speech features.",
    "If you close your account, we will keep a copy of your {thing} for {n} days so that you "
    "can restore it, after which it is deleted from our backup systems in {place}.",
    "You agree that any dispute about the {thing} will be settled by binding arbitration in "
    "{place}, and you waive the right to take part in a class action.",
    "We do not use the {thing} you upload to personalise advertising, but we may use "
    "aggregated statistics about it for {n} years to plan capacity.",
    "Children under {n} may not create an account, and we will delete any {thing} we learn "
    "was provided by a child without the consent of a parent in {place}.",
)
_PLACES = ("Iceland", "Singapore", "Ontario", "Portugal", "New Zealand", "Uruguay")
_THINGS = ("workspace settings", "uploaded images", "chat transcripts", "billing records")
_MODIFY_PHRASES = (
    "including any affiliated companies acting on our behalf",
    "subject to the limits described in our data retention schedule",
    "unless local law in your country requires otherwise",
    "and our automated review systems may flag it for human inspection",
)
# one-word changes that alter meaning: (pattern, replacement)
_MEANING_SWAPS: tuple[tuple[str, str], ...] = (
    (r"\bmay\b", "will"),
    (r"\bwill\b", "may"),
    (r"\bshall\b", "may"),
    (r"\bmust\b", "may"),
    (r"\bnever\b", "always"),
    (r"\bdo not\b", "do"),
    (r"\bdoes not\b", "does"),
)
_NEGATABLE = re.compile(r"\b(we|We|you|You) (will|may|can|do|shall|must) (?!not\b)")


class NoCandidate(ValueError):
    """The document has no clause this edit can be applied to."""


@dataclass(frozen=True)
class ExpectedChange:
    """A change a correct diff must report: kind and the clause texts before/after."""

    kind: ChangeKind
    old_text: str | None
    new_text: str | None


@dataclass
class EditResult:
    text: str
    expected: list[ExpectedChange] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class _Site:
    """A clause alone on one source line."""

    clause: ClauseSeg
    line: int
    prefix: str  # list marker and indentation before the text on that line


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _sites(text: str, avoid: Iterable[str] = ()) -> list[_Site]:
    clauses = segment(text, with_tokens=False)
    lines = _lines(text)
    keys = [canonical(c.text) for c in clauses]
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    by_content: dict[str, list[tuple[int, str]]] = {}
    for n, line in enumerate(lines):
        match = _MARKER.match(line)
        prefix, content = (match.group(1), match.group(2)) if match else ("", line)
        by_content.setdefault(content.strip(_BLANK), []).append((n, prefix))
    skip = {canonical(t) for t in avoid}
    sites: list[_Site] = []
    for clause, key in zip(clauses, keys, strict=True):
        if clause.kind not in ("paragraph", "list_item") or "\n" in clause.text:
            continue
        if counts[key] != 1 or key in skip or is_date_line(clause.text):
            continue
        hits = by_content.get(clause.text.strip(_BLANK), [])
        if len(hits) == 1 and not _SETEXT.match(
            lines[hits[0][0] + 1] if hits[0][0] + 1 < len(lines) else ""
        ):
            sites.append(_Site(clause, hits[0][0], hits[0][1]))
    return sites


def _pick(sites: list[_Site], rng: random.Random, what: str, min_words: int) -> _Site:
    usable = [s for s in sites if len(canonical(s.clause.text).split()) >= min_words]
    if not usable:
        raise NoCandidate(f"no clause of at least {min_words} words to {what}")
    return rng.choice(usable)


def _replace_line(text: str, line: int, new_line: str | None) -> str:
    lines = _lines(text)
    if new_line is None:
        del lines[line]
    else:
        lines[line] = new_line
    return "\n".join(lines)


def modify(text: str, rng: random.Random, avoid: Iterable[str] = ()) -> EditResult:
    """Rewrite part of one clause (a phrase added and a word dropped): a modification."""
    sites = _sites(text, avoid)
    rng.shuffle(sites)
    for site in sites:
        words = site.clause.text.split(" ")
        if len(canonical(site.clause.text).split()) < 14:
            continue
        # a plain word outside any link or markup, in the second half of the clause
        cuts = [
            n
            for n in range(len(words) // 2, len(words) - 2)
            if _PLAIN_WORD.match(words[n]) and _balanced(" ".join(words[:n]))
        ]
        if cuts:
            return _modify_at(text, site, words, rng.choice(cuts), rng)
    raise NoCandidate("no clause of at least 14 words with a plain word to replace")


def _balanced(prefix: str) -> bool:
    return prefix.count("[") == prefix.count("]") and prefix.count("(") == prefix.count(")")


def _modify_at(
    text: str, site: _Site, words: list[str], cut: int, rng: random.Random
) -> EditResult:
    old = site.clause.text
    phrase = rng.choice(_MODIFY_PHRASES)
    kept = [*words[:cut], phrase, *words[cut + 1 :]]
    new = " ".join(kept)
    result = _replace_line(text, site.line, site.prefix + new)
    return EditResult(
        result, [ExpectedChange(ChangeKind.MODIFIED, old, new)], f"modify: {phrase!r}"
    )


def one_word(text: str, rng: random.Random, avoid: Iterable[str] = ()) -> EditResult:
    """Change one word so the meaning changes (a number, may/will, an added "not")."""
    sites = [s for s in _sites(text, avoid) if len(canonical(s.clause.text).split()) >= 6]
    rng.shuffle(sites)
    for site in sites:
        old = site.clause.text
        options: list[tuple[str, str]] = []
        number = re.search(r"(?<![\w.,/-])(\d{1,3})(?![\w.,/%-])", old)
        if number:
            value = int(number.group(1))
            options.append(("number", old[: number.start()] + str(value + 7) + old[number.end() :]))
        for pattern, replacement in _MEANING_SWAPS:
            match = re.search(pattern, old)
            if match:
                options.append(("swap", old[: match.start()] + replacement + old[match.end() :]))
        negatable = _NEGATABLE.search(old)
        if negatable:
            options.append(("not", old[: negatable.end()] + "not " + old[negatable.end() :]))
        options = [(how, new) for how, new in options if canonical(new) != canonical(old)]
        if options:
            how, new = rng.choice(options)
            result = _replace_line(text, site.line, site.prefix + new)
            return EditResult(
                result, [ExpectedChange(ChangeKind.MODIFIED, old, new)], f"one word: {how}"
            )
    raise NoCandidate("no clause with a number, a modal verb or a negatable verb")


def _new_clause(rng: random.Random, text: str) -> str:
    existing = text.lower()
    for _ in range(20):
        sentence = rng.choice(_ADDED_CLAUSES).format(
            place=rng.choice(_PLACES), thing=rng.choice(_THINGS), n=rng.randrange(2, 97)
        )
        if sentence.lower() not in existing:
            return sentence
    raise NoCandidate("could not write a clause the document does not already have")


def _paragraph_anchors(text: str, avoid: Iterable[str]) -> list[_Site]:
    """Paragraph clauses on one line with blank lines around them (safe insertion points)."""
    lines = _lines(text)
    return [
        s
        for s in _sites(text, avoid)
        if s.clause.kind == "paragraph"
        and not s.prefix
        and (s.line + 1 >= len(lines) or not lines[s.line + 1].strip(_BLANK))
        and (s.line == 0 or not lines[s.line - 1].strip(_BLANK))
    ]


def add(text: str, rng: random.Random, avoid: Iterable[str] = ()) -> EditResult:
    """Insert a new paragraph (written here, not taken from a policy) after a paragraph."""
    anchors = _paragraph_anchors(text, avoid)
    if not anchors:
        raise NoCandidate("no paragraph to insert after")
    anchor = rng.choice(anchors)
    new = _new_clause(rng, text)
    lines = _lines(text)
    lines[anchor.line + 1 : anchor.line + 1] = ["", new]
    return EditResult(
        "\n".join(lines), [ExpectedChange(ChangeKind.ADDED, None, new)], "add paragraph"
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _removable(lines: list[str], site: _Site) -> bool:
    """Deleting this line leaves every other clause as it was (no orphaned nested items, no
    list merging into a paragraph)."""
    line = lines[site.line]
    before = lines[site.line - 1] if site.line else ""
    after = lines[site.line + 1] if site.line + 1 < len(lines) else ""
    if site.clause.kind != "list_item":
        return not after.strip(_BLANK)
    # a sibling item before it: the list keeps its first item (a list starting at "2." cannot
    # interrupt the paragraph above it)
    before_ok = not before.strip(_BLANK) or (
        _MARKER.match(before) is not None and _indent(before) == _indent(line)
    )
    after_ok = not after.strip(_BLANK) or (
        _MARKER.match(after) is not None and _indent(after) <= _indent(line)
    )
    # nothing nested under it further down (it would be re-parented or become code)
    following = next((x for x in lines[site.line + 1 :] if x.strip(_BLANK)), "")
    return before_ok and after_ok and _indent(following) <= _indent(line)


def remove(text: str, rng: random.Random, avoid: Iterable[str] = ()) -> EditResult:
    """Delete one paragraph or list item."""
    lines = _lines(text)
    sites = [s for s in _sites(text, avoid) if _removable(lines, s)]
    site = _pick(sites, rng, "remove", 4)
    result = _replace_line(text, site.line, None)
    return EditResult(
        result, [ExpectedChange(ChangeKind.REMOVED, site.clause.text, None)], "remove"
    )


def move(text: str, rng: random.Random, avoid: Iterable[str] = ()) -> EditResult:
    """Move one paragraph at least a few clauses away, to another section when there is one."""
    anchors = _paragraph_anchors(text, avoid)
    rng.shuffle(anchors)
    plans: list[tuple[_Site, _Site]] = []
    for source in anchors:
        far = [t for t in anchors if abs(t.clause.position - source.clause.position) >= 5]
        elsewhere = [t for t in far if not _compatible(t.clause.path, source.clause.path)]
        if elsewhere:
            plans.insert(0, (source, rng.choice(elsewhere)))
            break
        if far:
            plans.append((source, rng.choice(far)))
    if not plans:
        raise NoCandidate("no paragraph that can move at least five clauses away")
    source, target = plans[0]
    lines = _lines(text)
    moved_text = lines[source.line]
    insert_at = target.line + 1
    lines[insert_at:insert_at] = ["", moved_text]
    # delete the source line (and one blank line next to it), adjusting for the insertion
    src = source.line + (2 if source.line > target.line else 0)
    del lines[src]
    if src < len(lines) and not lines[src].strip(_BLANK):
        del lines[src]
    change = ExpectedChange(ChangeKind.MOVED, source.clause.text, source.clause.text)
    return EditResult("\n".join(lines), [change], "move paragraph")


def _compatible(a: list[str], b: list[str]) -> bool:
    ka, kb = [canonical(h) for h in a], [canonical(h) for h in b]
    n = min(len(ka), len(kb))
    return ka[:n] == kb[:n]


KNOWN_EDITS: dict[str, Callable[[str, random.Random, Iterable[str]], EditResult]] = {
    "modify": modify,
    "one_word": one_word,
    "add": add,
    "remove": remove,
    "move": move,
}


def apply_edits(text: str, kinds: Iterable[str], rng: random.Random) -> EditResult:
    """Apply several known edits in turn, each to a clause no earlier edit touched."""
    touched: list[str] = []
    expected: list[ExpectedChange] = []
    descriptions: list[str] = []
    for kind in kinds:
        result = KNOWN_EDITS[kind](text, rng, touched)
        text = result.text
        expected.extend(result.expected)
        descriptions.append(result.description)
        for change in result.expected:
            touched.extend(t for t in (change.old_text, change.new_text) if t)
    return EditResult(text, expected, "; ".join(descriptions))


# --- cosmetic perturbations (never changes) -------------------------------------------------


def _prose_lines(text: str) -> list[bool]:
    """Which lines hold prose that inline perturbations may touch."""
    flags: list[bool] = []
    in_fence = False
    for line in _lines(text):
        if _FENCE.match(line):
            in_fence = not in_fence
            flags.append(False)
            continue
        flags.append(
            not in_fence
            and bool(line.strip(_BLANK))
            and not line.startswith("    ")
            and not _SETEXT.match(line)
            and not re.match(r"^\s*\|?\s*:?-{3,}", line)
        )
    return flags


def _map_prose(line: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of ``line`` outside link targets, code, URLs and markers."""
    out: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(line):
        out.append(fn(line[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(fn(line[last:]))
    return "".join(out)


def _per_line(text: str, rng: random.Random, rate: float, fn: Callable[[str], str]) -> str:
    lines = _lines(text)
    for n, is_prose in enumerate(_prose_lines(text)):
        if is_prose and rng.random() < rate:
            lines[n] = _map_prose(lines[n], fn)
    return "\n".join(lines)


def perturb_spaces(text: str, rng: random.Random) -> str:
    """Double spaces between words, trailing spaces, extra blank lines, CRLF line ends."""

    def widen(part: str) -> str:
        return re.sub(r"(?<=\S) (?=\S)", lambda _: " " * rng.choice((1, 1, 2, 3)), part)

    text = _per_line(text, rng, 0.5, widen)
    lines = _lines(text)
    prose = _prose_lines(text)
    out: list[str] = []
    for n, line in enumerate(lines):
        if prose[n] and rng.random() < 0.2:
            line += " " * rng.choice((1, 3))
        out.append(line)
        if (
            not line.strip(_BLANK)
            and rng.random() < 0.2
            and not any(_FENCE.match(x) for x in lines)
        ):
            out.append("")
    joined = "\n".join(out)
    return joined.replace("\n", "\r\n") if rng.random() < 0.3 else joined


def rewrap(text: str, rng: random.Random) -> str:
    """Re-wrap stand-alone paragraph lines at a random width (Markdown joins them again)."""
    lines = _lines(text)
    prose = _prose_lines(text)
    width = rng.randrange(30, 90)
    out: list[str] = []
    for n, line in enumerate(lines):
        standalone = (
            prose[n]
            and (n == 0 or not lines[n - 1].strip(_BLANK))
            and (n + 1 >= len(lines) or not lines[n + 1].strip(_BLANK))
            and not re.match(r"^\s*([#>|<*+-]|\d+[.)]|\W)", line)
            and len(line) > width
        )
        if not standalone or rng.random() < 0.3:
            out.append(line)
            continue
        wrapped = textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False)
        merged: list[str] = []
        for piece in wrapped:
            # a continuation line must not start a list, heading, quote, table or underline
            if merged and re.match(r"^([#>|=<*+`~-]|\d+[.)])", piece):
                merged[-1] += " " + piece
            else:
                merged.append(piece)
        out.extend(merged)
    return "\n".join(out)


_QUOTE_SWAPS = {'"': ("\u201c", "\u201d"), "\u201c": ('"',), "\u201d": ('"',), "\u2019": ("'",)}
_DASH_SWAPS = {
    " - ": (" \u2013 ", " \u2014 ", " -- "),
    " \u2013 ": (" - ", " \u2014 "),
    " \u2014 ": (" - ", " -- ", " \u2013 "),
    "\u2014": ("--", "\u2013"),
}


def perturb_quotes_dashes(text: str, rng: random.Random) -> str:
    """Straight quotes to curly ones and back, one dash style for another."""

    def swap(part: str) -> str:
        chars: list[str] = []
        for ch in part:
            choices = _QUOTE_SWAPS.get(ch)
            if ch == "'" and rng.random() < 0.5:
                chars.append("\u2019")
            elif choices and rng.random() < 0.7:
                chars.append(rng.choice(choices))
            else:
                chars.append(ch)
        part = "".join(chars)
        for dash, options in _DASH_SWAPS.items():
            if dash in part and rng.random() < 0.7:
                part = part.replace(dash, rng.choice(options))
        return part

    return _per_line(text, rng, 0.6, swap)


def perturb_emphasis(text: str, rng: random.Random) -> str:
    """Add bold/italic to some words and drop some existing bold."""

    def unbold(match: re.Match[str]) -> str:
        return match.group(1) if rng.random() < 0.5 else match.group()

    def emphasise(match: re.Match[str]) -> str:
        if rng.random() >= 0.08:
            return match.group()
        mark = rng.choice(("**", "*", "_"))
        return f"{mark}{match.group(1)}{mark}"

    def change(part: str) -> str:
        return _WORD.sub(emphasise, _BOLD.sub(unbold, part))

    return _per_line(text, rng, 0.5, change)


def perturb_links(text: str, rng: random.Random) -> str:
    """Point links elsewhere, and link a few words that had no link."""
    text = _LINK_TARGET.sub(
        lambda m: (
            f"](https://example.org/moved/{rng.randrange(1 << 32):08x}"
            if rng.random() < 0.7
            else m.group()
        ),
        text,
    )

    def link(part: str) -> str:
        return _WORD.sub(
            lambda m: (
                f"[{m.group(1)}](https://example.net/{rng.randrange(1000)})"
                if rng.random() < 0.03
                else m.group()
            ),
            part,
        )

    lines = _lines(text)
    prose = _prose_lines(text)
    for n, line in enumerate(lines):
        if prose[n] and "[" not in line and "]" not in line and rng.random() < 0.4:
            lines[n] = _map_prose(line, link)
    return "\n".join(lines)


def perturb_dates(text: str, rng: random.Random) -> str:
    """Change the date of "Last updated"/"Effective" lines, or add such a line at the top."""
    lines = _lines(text)
    found = False
    for n, line in enumerate(lines):
        if line.strip(_BLANK) and is_date_line(line) and _DATE_VALUE.search(line):
            found = True
            lines[n] = _DATE_VALUE.sub(
                lambda _: (
                    f"{rng.choice(('March', 'July', 'October'))} {rng.randrange(1, 28)}, "
                    f"{rng.randrange(2027, 2031)}"
                ),
                line,
            )
    if not found or rng.random() < 0.3:
        stamp = f"Last updated: {rng.choice(('May', 'June'))} {rng.randrange(1, 28)}, 2030"
        lines[0:0] = [stamp, ""]
    return "\n".join(lines)


def renumber(text: str, rng: random.Random) -> str:
    """Renumber numbered headings and ordered list items (same digit count)."""
    shift = rng.choice((1, 2, 3))
    lines = _lines(text)
    prose = _prose_lines(text)
    for n, line in enumerate(lines):
        if not prose[n]:
            continue
        next_line = lines[n + 1] if n + 1 < len(lines) else ""
        is_heading = line.lstrip().startswith("#") or (
            _SETEXT.match(next_line) is not None
            and next_line.strip(_BLANK) != ""
            and not _ORDERED.match(line)
        )
        if is_heading:
            body = line.lstrip()
            match = _HEADING_NUMBER.match(body)
            if match:
                number = str(int(match.group(3)) + shift)
                start, end = match.span(3)
                lines[n] = body[:start] + number + body[end:]
            continue
        match = _ORDERED.match(line)
        if not match:
            continue
        previous = lines[n - 1] if n else ""
        if previous.strip(_BLANK) and not _MARKER.match(previous) and not previous.startswith(" "):
            continue  # a list interrupting a paragraph must keep its number
        old = match.group(2)
        new = str(int(old) + shift)
        if len(new) == len(old):
            lines[n] = match.group(1) + new + match.group(3) + match.group(4) + line[match.end() :]
    return "\n".join(lines)


PERTURBATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "spaces": perturb_spaces,
    "rewrap": rewrap,
    "quotes_dashes": perturb_quotes_dashes,
    "emphasis": perturb_emphasis,
    "links": perturb_links,
    "dates": perturb_dates,
    "renumber": renumber,
}


def perturb(text: str, rng: random.Random, kinds: Iterable[str] | None = None) -> str:
    """Apply cosmetic perturbations (all kinds by default, in a random order)."""
    chosen = list(kinds) if kinds is not None else list(PERTURBATIONS)
    rng.shuffle(chosen)
    # line-structure changes last (the others work line by line), white space at the very end
    chosen.sort(key=lambda k: {"rewrap": 1, "spaces": 2}.get(k, 0))
    for kind in chosen:
        text = PERTURBATIONS[kind](text, rng)
    return text
