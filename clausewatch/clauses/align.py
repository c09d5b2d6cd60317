"""Alignment of two segmented versions: which clauses were added, removed, modified or moved.

1. Clauses with equal canonical text (:func:`clauses.canonical.canonical`) are matched first,
   repeated texts along a longest common subsequence. Cosmetic edits never show up as changes.
2. Among the leftovers only, each new clause is compared with the old clauses that share rare
   words with it (an inverted index prunes the candidates), and pairs at least ``threshold``
   similar (normalised Indel similarity of their words) are matched greedily, best first.
   Those are modifications, with a word-level diff.
   2b. A clause rewritten in place (below ``threshold``) is still the same clause when it is
   the only leftover, on each side, between the same two matched neighbours and under the
   same heading trail, and at least ``SLOT_FLOOR`` similar: "We do not use your data to
   train" -> "We may use your data to train unless you opt out" is a modification, not a
   removal plus an addition.
3. A matched clause moved if it now sits under a different section or, among the clauses
   that kept their section, if it left the longest run kept in order. Sections are compared
   by canonical heading trail (renumbering ignored); each old section maps to the new section
   that received most of its clauses, so renaming a heading moves nothing, and headings added
   or removed above or below a clause (one trail a prefix of the other) do not move it either.
4. "Last updated"/"Effective date" lines are matched among themselves and never reported.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from clausewatch.clauses.canonical import canonical, is_date_line
from clausewatch.clauses.canonical import words as words_of
from clausewatch.clauses.worddiff import similarity, word_diff
from clausewatch.schemas.clauses import Alignment, ClauseChange, ClauseRef, ClauseSeg
from clausewatch.schemas.vocabulary import ChangeKind

__all__ = ["DEFAULT_THRESHOLD", "Alignment", "align", "clear_caches"]

DEFAULT_THRESHOLD = 0.5
_CANDIDATES = 8
_MAX_POSTINGS = 64
_CONTAINED = 0.85
_CONTAINED_MIN_WORDS = 8
_CONTAINED_FLOOR = 0.35  # below this, "contained" is mostly common words in common
SLOT_FLOOR = 0.25  # a clause rewritten in its own slot (step 2b)


@dataclass(frozen=True)
class _Pair:
    old: int
    new: int
    exact: bool
    similarity: float


_SECTIONS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _sections(clauses: list[ClauseSeg]) -> list[tuple[str, ...]]:
    """Canonical heading trail of each clause (consecutive clauses often share one list)."""
    result: list[tuple[str, ...]] = []
    last_path: list[str] | None = None
    last: tuple[str, ...] = ()
    for clause in clauses:
        if clause.path is not last_path and clause.path != last_path:
            last_path, last = clause.path, _section(clause)
        result.append(last)
    return result


def _section(clause: ClauseSeg) -> tuple[str, ...]:
    """Canonical heading trail (renumbering and emphasis ignored)."""
    trail = tuple(clause.path)
    section = _SECTIONS.get(trail)
    if section is None:
        if len(_SECTIONS) > 1 << 16:
            _SECTIONS.clear()
        section = _SECTIONS[trail] = tuple(canonical(heading) for heading in trail)
    return section


def clear_caches() -> None:
    """Forget cached canonical forms and heading trails (benchmarks measure cold runs)."""
    canonical.cache_clear()
    _SECTIONS.clear()


def _exact_pairs(
    old_items: list[tuple[int, str]], new_items: list[tuple[int, str]]
) -> dict[int, int]:
    """new index -> old index for equal keys.

    Keys seen once on each side pair directly. Clauses whose key repeats are paired along a
    longest common subsequence of the repeated keys (fewest moves), then in order."""
    old_by_key: dict[str, list[int]] = defaultdict(list)
    new_by_key: dict[str, list[int]] = defaultdict(list)
    for i, key in old_items:
        old_by_key[key].append(i)
    for j, key in new_items:
        new_by_key[key].append(j)
    pairs: dict[int, int] = {}
    repeated: set[str] = set()
    for key, news in new_by_key.items():
        olds = old_by_key.get(key)
        if not olds:
            continue
        if len(olds) == 1 and len(news) == 1:
            pairs[news[0]] = olds[0]
        else:
            repeated.add(key)
    if not repeated:
        return pairs
    rep_old = [(i, key) for i, key in old_items if key in repeated]
    rep_new = [(j, key) for j, key in new_items if key in repeated]
    used_old: set[int] = set()
    for op in Indel.opcodes([k for _, k in rep_old], [k for _, k in rep_new]):
        if op.tag == "equal":
            for offset in range(op.src_end - op.src_start):
                i = rep_old[op.src_start + offset][0]
                pairs[rep_new[op.dest_start + offset][0]] = i
                used_old.add(i)
    for key in repeated:
        free_old = [i for i in old_by_key[key] if i not in used_old]
        free_new = [j for j in new_by_key[key] if j not in pairs]
        pairs.update(zip(free_new, free_old, strict=False))
    return pairs


def _slot_pairs(
    old: list[ClauseSeg],
    new: list[ClauseSeg],
    old_keys: dict[int, str],
    new_keys: dict[int, str],
    pairs: list[_Pair],
    left_old: list[int],
    left_new: list[int],
) -> list[_Pair]:
    """Step 2b: one leftover old and one leftover new clause between the same matched
    neighbours (by old index), in the same section and at least ``SLOT_FLOOR`` similar."""
    if not pairs:
        return []
    matched_old = {p.old for p in pairs}
    matched_new = {p.new for p in pairs}
    old_free = [i for i in left_old if i not in matched_old]
    new_free = [j for j in left_new if j not in matched_new]
    if not old_free or not new_free:
        return []
    olds = sorted(matched_old)
    news = sorted(matched_new)
    old_of_new = {p.new: p.old for p in pairs}

    def old_gap(i: int) -> tuple[int, int]:
        k = bisect_left(olds, i)
        return (olds[k - 1] if k else -1, olds[k] if k < len(olds) else len(old))

    def new_gap(j: int) -> tuple[int, int]:
        k = bisect_left(news, j)
        before = old_of_new[news[k - 1]] if k else -1
        after = old_of_new[news[k]] if k < len(news) else len(old)
        return (before, after)

    by_gap_old: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_gap_new: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in old_free:
        by_gap_old[old_gap(i)].append(i)
    for j in new_free:
        by_gap_new[new_gap(j)].append(j)
    found: list[_Pair] = []
    for gap, old_items in by_gap_old.items():
        new_items = by_gap_new.get(gap, [])
        if len(old_items) != 1 or len(new_items) != 1:
            continue
        i, j = old_items[0], new_items[0]
        if _section(old[i]) != _section(new[j]):
            continue
        score = similarity(words_of(old_keys[i]), words_of(new_keys[j]))
        if score >= SLOT_FLOOR:
            found.append(_Pair(i, j, exact=False, similarity=score))
    return found


def _match_score(a: list[str], b: list[str], threshold: float) -> float | None:
    """Similarity of two word lists when they are similar enough to be one clause modified:
    at least ``threshold`` similar, or one (of at least ``_CONTAINED_MIN_WORDS`` words) mostly
    kept inside the other (a clause that grew or shrank by whole sentences) while still at
    least ``_CONTAINED_FLOOR`` similar."""
    shorter, total = min(len(a), len(b)), len(a) + len(b)
    if not shorter:
        return None
    contained_possible = shorter >= _CONTAINED_MIN_WORDS
    if not contained_possible and 2 * shorter < threshold * total:
        return None  # cannot reach the threshold
    score = similarity(a, b)
    if score >= threshold:
        return score
    if contained_possible and score >= _CONTAINED_FLOOR:
        common = score * total / 2  # words kept in order (Indel: 2 * LCS / total)
        if common >= _CONTAINED * shorter:
            return score
    return None


def _similar_pairs(
    old_keys: dict[int, str],
    new_keys: dict[int, str],
    left_old: list[int],
    left_new: list[int],
    sizes: tuple[int, int],
    threshold: float,
) -> list[_Pair]:
    if not left_old or not left_new:
        return []
    old_words = {i: words_of(old_keys[i]) for i in left_old}
    postings: dict[str, list[int]] = defaultdict(list)
    for i in left_old:
        for word in dict.fromkeys(
            old_words[i]
        ):  # document order: ties break the same way every run
            postings[word].append(i)
    n_old, n_new = max(sizes[0], 1), max(sizes[1], 1)
    edges: list[tuple[float, float, int, int]] = []
    for j in left_new:
        words = words_of(new_keys[j])
        shared: Counter[int] = Counter()
        for word in dict.fromkeys(words):
            posting = postings.get(word)
            if posting and len(posting) <= _MAX_POSTINGS:
                shared.update(posting)
        if not shared:
            # only common words: compare with the old clauses nearest in place
            rel = j / n_new
            nearest = sorted(left_old, key=lambda i: abs(i / n_old - rel))[:_CANDIDATES]
            candidates = nearest
        else:
            candidates = [i for i, _ in shared.most_common(_CANDIDATES)]
        for i in candidates:
            score = _match_score(old_words[i], words, threshold)
            if score is not None:
                edges.append((score, -abs(i / n_old - j / n_new), i, j))
    edges.sort(reverse=True)
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    pairs: list[_Pair] = []
    for score, _, i, j in edges:
        if i in taken_old or j in taken_new:
            continue
        taken_old.add(i)
        taken_new.add(j)
        pairs.append(_Pair(i, j, exact=False, similarity=score))
    return pairs


def _in_order(pairs: list[_Pair]) -> set[int]:
    """Indexes (into ``pairs``, sorted by old position) of a longest run kept in order."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(pairs)
    for k, pair in enumerate(pairs):
        pos = bisect_left(tails, pair.new)
        if pos == len(tails):
            tails.append(pair.new)
            tail_index.append(k)
        else:
            tails[pos] = pair.new
            tail_index[pos] = k
        previous[k] = tail_index[pos - 1] if pos else -1
    keep: set[int] = set()
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        keep.add(k)
        k = previous[k]
    return keep


def _section_map(
    old_sections: list[tuple[str, ...]],
    new_sections: list[tuple[str, ...]],
    pairs: list[_Pair],
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Each old section maps to the new section that received most of its matched clauses
    (the same trail on a tie), so a renamed heading moves nothing while a clause leaving a
    section that otherwise stays put is a move."""
    votes: dict[tuple[str, ...], Counter[tuple[str, ...]]] = defaultdict(Counter)
    for pair in pairs:
        votes[old_sections[pair.old]][new_sections[pair.new]] += 1
    mapping: dict[tuple[str, ...], tuple[str, ...]] = {}
    for section, counter in votes.items():
        best = max(counter.values())
        mapping[section] = (
            section
            if counter.get(section) == best
            else next(target for target, n in counter.most_common() if n == best)
        )
    return mapping


def _changed_section(
    mapping: dict[tuple[str, ...], tuple[str, ...]],
    old_section: tuple[str, ...],
    new_section: tuple[str, ...],
) -> bool:
    """Whether a clause changed section. Headings added above or below it (one trail a prefix
    of the other, as when a flat text gains sub-headings) do not count."""

    def compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        shorter = min(len(a), len(b))
        return a[:shorter] == b[:shorter]

    target = mapping.get(old_section, old_section)
    return not (compatible(old_section, new_section) or compatible(target, new_section))


def _ref(clause: ClauseSeg, clause_id: str) -> ClauseRef:
    return ClauseRef(id=clause_id, path=list(clause.path), text=clause.text)


def _unique_id(stem: str, used: set[str]) -> str:
    if stem not in used:
        return stem
    base = stem.split("-")[0]
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def align(
    old: list[ClauseSeg], new: list[ClauseSeg], *, threshold: float = DEFAULT_THRESHOLD
) -> Alignment:
    """Align two versions' clauses (see the module docstring for the method)."""
    # 1. equal canonical texts, repeats in order ("Last updated" lines aside)
    old_keys = {i: canonical(clause.text) for i, clause in enumerate(old)}
    new_keys = {j: canonical(clause.text) for j, clause in enumerate(new)}
    old_dates = [i for i, clause in enumerate(old) if is_date_line(clause.text)]
    new_dates = [j for j, clause in enumerate(new) if is_date_line(clause.text)]
    skip_old, skip_new = set(old_dates), set(new_dates)
    exact = _exact_pairs(
        [(i, key) for i, key in old_keys.items() if i not in skip_old],
        [(j, key) for j, key in new_keys.items() if j not in skip_new],
    )
    pairs = [_Pair(i, j, exact=True, similarity=1.0) for j, i in exact.items()]
    taken = set(exact.values())
    left_old = [i for i in range(len(old)) if i not in taken and i not in skip_old]
    left_new = [j for j in range(len(new)) if j not in exact and j not in skip_new]
    # 2. similar clauses among what is left
    pairs.extend(
        _similar_pairs(old_keys, new_keys, left_old, left_new, (len(old), len(new)), threshold)
    )
    # 2b. clauses rewritten in place, alone in their slot
    pairs.extend(_slot_pairs(old, new, old_keys, new_keys, pairs, left_old, left_new))
    pairs.sort(key=lambda pair: pair.old)
    # 3. date lines: matched in order, never reported
    date_pairs = list(zip(old_dates, new_dates, strict=False))

    old_sections = _sections(old)
    new_sections = _sections(new)
    sections = _section_map(old_sections, new_sections, pairs)
    # clauses that changed section moved anyway; the order is judged among the others
    changed_section = {
        k
        for k, pair in enumerate(pairs)
        if _changed_section(sections, old_sections[pair.old], new_sections[pair.new])
    }
    staying = [k for k in range(len(pairs)) if k not in changed_section]
    kept_in_order = {staying[k] for k in _in_order([pairs[k] for k in staying])}

    ids = [clause.id for clause in new]
    for pair in pairs:
        ids[pair.new] = old[pair.old].id
    for i, j in date_pairs:
        ids[j] = old[i].id
    inherited = {pair.new for pair in pairs} | {j for _, j in date_pairs}
    used = {ids[j] for j in inherited}
    for j, clause in enumerate(new):
        if j not in inherited:
            ids[j] = _unique_id(clause.id, used)
            used.add(ids[j])

    changes: list[tuple[float, ClauseChange]] = []
    unchanged = 0
    new_of_old: dict[int, int] = {}
    for k, pair in enumerate(pairs):
        new_of_old[pair.old] = pair.new
        o, n = old[pair.old], new[pair.new]
        moved = k not in kept_in_order
        if pair.exact and not moved:
            unchanged += 1
            continue
        change = ClauseChange(
            kind=ChangeKind.MOVED if pair.exact else ChangeKind.MODIFIED,
            old=_ref(o, o.id),
            new=_ref(n, ids[pair.new]),
            old_position=o.position,
            new_position=n.position,
            moved=moved,
        )
        if not pair.exact:
            change.similarity = round(pair.similarity, 4)
            change.word_diff = word_diff(o.text, n.text)
        changes.append((float(pair.new), change))

    matched_new = {pair.new for pair in pairs}
    for j in left_new:
        if j not in matched_new:
            n = new[j]
            change = ClauseChange(
                kind=ChangeKind.ADDED, new=_ref(n, ids[j]), new_position=n.position
            )
            changes.append((float(j), change))
    # a removed clause is reported after the last in-order clause that preceded it
    anchors = {pairs[k].old: pairs[k].new for k in kept_in_order}
    anchor = -0.5
    removed_rank = 0
    left_old_set = set(left_old) - set(new_of_old)
    for i in range(len(old)):
        if i in anchors:
            anchor = anchors[i] + 0.5
        elif i in left_old_set:
            removed_rank += 1
            o = old[i]
            change = ClauseChange(
                kind=ChangeKind.REMOVED, old=_ref(o, o.id), old_position=o.position
            )
            changes.append((anchor + removed_rank * 1e-9, change))
    changes.sort(key=lambda item: item[0])

    clauses = [
        clause if ids[j] == clause.id else clause.model_copy(update={"id": ids[j]})
        for j, clause in enumerate(new)
    ]
    return Alignment(
        changes=[change for _, change in changes], clauses=clauses, unchanged=unchanged
    )
