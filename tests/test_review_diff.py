"""Word diff for the draft page: exact reconstruction, highlighting, hostile sizes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clausewatch.review.diff import MAX_TOKENS, columns

words = st.lists(st.sampled_from(["data", "30", "90", "days", "we", "<b>", "\n", "  ", "may"]))


@given(words, words)
def test_segments_rebuild_both_texts_exactly(a: list[str], b: list[str]) -> None:
    before, after = " ".join(a), " ".join(b)
    left, right = columns(before, after)
    assert "".join(s.text for s in left) == before
    assert "".join(s.text for s in right) == after
    assert {s.op for s in left} <= {"equal", "delete"}
    assert {s.op for s in right} <= {"equal", "insert"}
    if before == after:
        assert all(s.op == "equal" for s in left + right)


def test_changed_words_are_marked_and_neighbouring_changes_joined() -> None:
    left, right = columns(
        "We may retain API inputs for 30 days to monitor abuse.",
        "We may retain API inputs for 90 days to monitor abuse and improve models.",
    )
    assert [(s.op, s.text) for s in left if s.op != "equal"] == [
        ("delete", "30"),
        ("delete", "abuse."),
    ]
    assert [(s.op, s.text) for s in right if s.op != "equal"] == [
        ("insert", "90"),
        ("insert", "abuse and improve models."),
    ]
    added_left, added_right = columns(None, "A new clause.")
    assert added_left == [] and [s.op for s in added_right] == ["insert"]


def test_huge_inputs_fall_back_to_whole_text_replacement() -> None:
    big = "word " * MAX_TOKENS
    left, right = columns(big, big + "more")
    assert [s.op for s in left] == ["delete"] and [s.op for s in right] == ["insert"]
    assert left[0].text == big


def test_the_columns_show_the_archive_word_diff() -> None:
    """One diff: the review columns mark exactly what the archive's word diff marks."""
    from clausewatch.clauses.worddiff import word_diff

    before = "We keep logs for 30 days and share them with vendors."
    after = "We keep logs for 90 days and never share them."
    left, right = columns(before, after)
    ops = word_diff(before, after)
    assert (
        [s.text.strip() for s in left if s.op == "delete"]
        == [o.text for o in ops if o.op == "delete"]
        == ["30", "them with vendors."]
    )
    assert (
        [s.text.strip() for s in right if s.op == "insert"]
        == [o.text for o in ops if o.op == "insert"]
        == ["90", "never", "them."]
    )
