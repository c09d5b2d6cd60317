"""Word-level diff and similarity of two clause texts (rapidfuzz's Indel distance on words).

Words are the white-space separated tokens of the text without Markdown syntax (like
``git diff --word-diff``); they are compared after quote/dash normalisation, so a modified
clause does not also show its cosmetic differences.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Indel

from clausewatch.clauses.canonical import normalise_chars, plain
from clausewatch.schemas.clauses import WordOp


def display_words(text: str) -> list[str]:
    return plain(text).split()


def similarity(old_words: list[str], new_words: list[str]) -> float:
    """1.0 for identical word sequences, 0.0 for nothing in common (normalised Indel)."""
    if not old_words and not new_words:
        return 1.0
    return float(Indel.normalized_similarity(old_words, new_words))


def _append(ops: list[WordOp], op: str, tokens: Sequence[str], joiner: str) -> None:
    if not tokens:
        return
    text = joiner.join(tokens)
    if ops and ops[-1].op == op:
        ops[-1] = WordOp(op=ops[-1].op, text=ops[-1].text + joiner + text)
    else:
        ops.append(WordOp.model_validate({"op": op, "text": text}))


def diff_runs(
    old: Sequence[str],
    new: Sequence[str],
    *,
    old_keys: Sequence[str] | None = None,
    new_keys: Sequence[str] | None = None,
    joiner: str = " ",
) -> list[WordOp]:
    """Runs of equal, deleted and inserted tokens turning ``old`` into ``new`` (rapidfuzz's
    Indel alignment), each run's tokens joined by ``joiner``; within a changed stretch,
    deletions come before insertions. Tokens are compared by their ``*_keys`` when given
    (one key per token), and shown as they are."""
    old_keys = old if old_keys is None else old_keys
    new_keys = new if new_keys is None else new_keys
    ops: list[WordOp] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for opcode in Indel.opcodes(list(old_keys), list(new_keys)):
        if opcode.tag == "equal":
            _append(ops, "delete", deleted, joiner)
            _append(ops, "insert", inserted, joiner)
            deleted, inserted = [], []
            _append(ops, "equal", new[opcode.dest_start : opcode.dest_end], joiner)
        else:  # "delete" / "insert" ("replace" is not produced by Indel)
            deleted.extend(old[opcode.src_start : opcode.src_end])
            inserted.extend(new[opcode.dest_start : opcode.dest_end])
    _append(ops, "delete", deleted, joiner)
    _append(ops, "insert", inserted, joiner)
    return ops


def word_diff(old_text: str, new_text: str) -> list[WordOp]:
    """Runs of equal, deleted and inserted words turning ``old_text`` into ``new_text``.

    Within a changed stretch, deletions come before insertions."""
    old_shown, new_shown = display_words(old_text), display_words(new_text)
    old_keys = normalise_chars(" ".join(old_shown)).split()
    new_keys = normalise_chars(" ".join(new_shown)).split()
    if len(old_keys) != len(old_shown) or len(new_keys) != len(new_shown):
        old_keys, new_keys = old_shown, new_shown
    return diff_runs(old_shown, new_shown, old_keys=old_keys, new_keys=new_keys)
