"""The fuzzy check: normalised containment either way, or a similarity floor."""

from __future__ import annotations

from lab.core.checks.config import validate_check
from lab.core.checks.fuzzy import contained_either_way, normalise, similarity
from lab.core.checks.graders import run_check
from lab.core.model import Check, TestCase


def test_normalising_drops_case_punctuation_articles_and_extra_spaces():
    assert normalise("  The  Eiffel Tower, in PARIS! ") == "eiffel tower in paris"


def test_containment_either_way_and_empty_only_matches_empty():
    assert contained_either_way("It is the Eiffel Tower.", "eiffel tower")
    assert contained_either_way("Paris", "Paris, France")  # the reference contains the output
    assert not contained_either_way("Lyon", "Paris")
    assert not contained_either_way("", "Paris") and contained_either_way("!", "the")


def test_the_check_renders_variables_and_passes_on_any_value():
    case = TestCase({"answer": "The Louvre"})
    check = Check("fuzzy", {"value": ["{{answer}}", "Musée du Louvre"]})
    result = run_check(check, "louvre", case)
    assert result.passed and result.reason.startswith("matches 'The Louvre'")
    assert not run_check(check, "Orsay", case).passed


def test_a_similarity_floor_scores_the_best_value():
    check = Check("fuzzy", {"value": "colour", "min_similarity": 0.8})
    result = run_check(check, "Color", None)
    assert round(similarity("Color", "colour"), 3) == 0.909
    assert result.passed and result.score == similarity("Color", "colour")
    assert not run_check(check, "shade", None).passed
    assert validate_check(Check("fuzzy", {"value": "x", "min_similarity": 2})) == [
        "Check 'fuzzy': 'min_similarity' must be between 0 and 1, not 2."]
