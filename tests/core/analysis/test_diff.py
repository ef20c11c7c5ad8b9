"""Word-level diff: what a user sees highlighted when comparing two prompts or outputs."""

from lab.core.analysis.diff import Span, word_diff


def test_changed_word_is_marked_on_both_sides_and_texts_rebuild_exactly():
    a = "You are terse.\nReply to {{customer}}."
    b = "You are warm.\nReply to {{customer}} by name."
    diff = word_diff(a, b)
    assert "".join(s.text for s in diff.left) == a
    assert "".join(s.text for s in diff.right) == b
    assert Span("removed", "terse") in diff.left
    assert Span("added", "warm") in diff.right
    assert [s for s in diff.right if s.kind == "added"][-1].text.strip() == "by name"
    assert diff.counts() == (1, 3)
    assert diff.changed


def test_identical_texts_have_no_change():
    diff = word_diff("same text", "same text")
    assert not diff.changed and diff.left == [Span("equal", "same text")]
