"""Template rendering, message building and the token estimate."""

from __future__ import annotations

import math
import random
import re
import string
import time

import pytest
from lab.core.experiment.template import (
    MissingVariables,
    build_messages,
    estimate_messages_tokens,
    estimate_tokens,
    malformed_placeholders,
    render,
    variable_spans,
    variables,
)
from lab.core.model import Message, TestCase

from tests.helpers.projects import support_variant

# --- variables() and render() -------------------------------------------------------------


def test_variables_in_order_of_first_appearance_without_repeats():
    text = "Hi {{name}}, about {{ order_id }}: {{name}} again, {{customer.email}} and {{x-y}}"
    assert variables(text) == ["name", "order_id", "customer.email", "x-y"]


def test_names_must_start_with_letter_and_not_end_with_dot():
    assert variables("{{1abc}} {{abc.}} {{first name}} {{}} {{ok_1}}") == ["ok_1"]


def test_render_fills_values_with_spaces_tolerated():
    assert render("Dear {{ name }}, re {{topic}}.", {"name": "Ann", "topic": "refund"}) == (
        "Dear Ann, re refund."
    )


def test_escaped_braces_render_as_literal_and_are_not_variables():
    text = r"Use \{{name}} syntax for {{name}}"
    assert variables(text) == ["name"]
    assert render(text, {"name": "Bo"}) == "Use {{name}} syntax for Bo"


def test_values_are_not_rescanned_so_user_data_cannot_inject_variables():
    assert render("Q: {{q}}", {"q": "what is {{secret}}?"}) == "Q: what is {{secret}}?"


def test_missing_values_raise_with_every_name_and_nothing_partial():
    with pytest.raises(MissingVariables) as err:
        render("{{a}} {{b}} {{c}} {{a}}", {"b": "x"})
    assert err.value.names == ["a", "c"]
    assert "{{a}}" in str(err.value) and "{{c}}" in str(err.value)


def test_empty_string_is_a_value_but_none_is_missing():
    assert render("[{{a}}]", {"a": ""}) == "[]"
    with pytest.raises(MissingVariables):
        render("[{{a}}]", {"a": None})


def test_non_text_values_use_json_spelling():
    assert render("{{n}} {{b}} {{d}}", {"n": 3, "b": True, "d": {"k": [1]}}) == '3 true {"k": [1]}'


def test_variable_spans_for_highlighting_skip_escaped_and_malformed():
    text = r"\{{a}} {{ b }} {{c d}} {{b}}"
    assert variable_spans(text) == [(7, 14, "b"), (23, 28, "b")]


def test_malformed_placeholders_are_left_as_written():
    assert render("{{first name}} {{x}}", {"x": "1"}) == "{{first name}} 1"
    assert malformed_placeholders("{{first name}} {{x}} {{}}") == ["{{first name}}", "{{}}"]


def test_json_braces_in_prompts_are_untouched():
    text = 'Reply as {"answer": {"text": "{{q}}"}}'
    assert render(text, {"q": "hi"}) == 'Reply as {"answer": {"text": "hi"}}'


# --- build_messages() --------------------------------------------------------------------


def test_build_messages_orders_system_examples_then_user():
    case = TestCase({"company": "Acme", "question": "Can I return shoes?"})
    messages = build_messages(support_variant(), "{{question}}", case)
    assert messages == [
        Message("system", "You answer for Acme."),
        Message("user", "Where is order 1?", is_example=True),
        Message("assistant", "It ships today from Acme.", is_example=True),
        Message("user", "Refund?", is_example=True),
        Message("assistant", "Yes, within 30 days.", is_example=True),
        Message("user", "Can I return shoes?"),
    ]


def test_build_messages_without_system_prompt_starts_with_user():
    messages = build_messages(support_variant(system="", examples=[]), "Hi {{n}}", TestCase({"n": "Jo"}))
    assert messages == [Message("user", "Hi Jo")]


def test_system_prompt_that_renders_empty_is_not_sent():
    variant = support_variant(system="{{persona}}", examples=[])
    messages = build_messages(variant, "Hi", TestCase({"persona": "  "}))
    assert messages == [Message("user", "Hi")]


def test_build_messages_lists_missing_names_from_every_field():
    with pytest.raises(MissingVariables) as err:
        build_messages(support_variant(), "{{question}}", TestCase({}))
    assert err.value.names == ["company", "question"]


# --- token estimate ----------------------------------------------------------------------


def test_estimate_is_close_to_real_tokenizers_for_english_and_json():
    # GPT-4's tokenizer gives 10 for this sentence and about 170 for the paragraph; the estimate
    # may err high (a budget warning should), but not wildly
    assert estimate_tokens("The quick brown fox jumps over the lazy dog.") in range(9, 13)
    paragraph = (
        "Prompt engineering first; fine-tune only when the data says so. The lab shows how many "
        "curated examples exist, how consistent the outputs are across samples, and how many "
        "tokens of instructions every call repeats. "
    ) * 4
    assert 150 <= estimate_tokens(paragraph) <= 215
    assert 10 <= estimate_tokens('{"name": "Ann", "age": 31, "tags": ["a", "b"]}') <= 20


def test_estimate_is_zero_for_empty_and_positive_otherwise():
    assert estimate_tokens("") == 0
    assert estimate_tokens(" ") == 1
    assert estimate_tokens("你好世界") >= 3  # CJK is about a token per character


def test_estimate_never_decreases_while_typing():
    text = 'JSON: {"a": 1234567}, naïve café — 東京 {{var}}\n  indented_code(x) = 42;'
    previous = 0
    for i in range(len(text) + 1):
        current = estimate_tokens(text[:i])
        assert current >= previous, text[:i]
        previous = current
    # inserting anywhere (not only at the end) never lowers it either
    base = estimate_tokens(text)
    for i in range(len(text)):
        for ch in (" ", "a", ".", "7", "é"):
            assert estimate_tokens(text[:i] + ch + text[i:]) >= base


def _estimate_by_definition(text: str) -> int:
    """The estimate as template.py defines it, with a regex scan per class (its first version)."""
    if not text:
        return 0
    latin = sum((len(w) + 7) // 8 for w in re.findall(r"[A-Za-z_]+", text))
    latin += sum((len(d) + 2) // 3 for d in re.findall(r"[0-9]+", text))
    latin += sum((len(p) + 1) // 2 for p in re.findall(r"[^\w\s]+", text))
    others = re.findall(r"[^\W0-9A-Za-z_]+", text)
    other_chars = sum(len(w) for w in others)
    other = sum(math.ceil(len(w) * 0.75) for w in others)
    return max(1, math.ceil((latin + (len(text) - other_chars) / 4) / 2) + other)


def test_estimate_matches_its_definition_on_random_text():
    rng = random.Random(16)
    alphabet = (string.printable + "éçñüßЖщ你好世界’“”—…·٣²\u00a0\u2003\x00\x1c\x7f\x80\x85\xff"
                "\U0001f600ـ" + "a" * 20 + "7" * 8 + "-" * 4 + "界" * 4)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        assert estimate_tokens(text) == _estimate_by_definition(text), repr(text)
    every_character = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x30000)))
    for start in range(0, len(every_character), 4999):
        text = every_character[start:start + 4999]
        assert estimate_tokens(text) == _estimate_by_definition(text)


def test_estimate_is_fast_enough_for_every_keystroke():
    line = 'You are a helpful assistant. Answer {{question}} in JSON: {"a": 1}.\n'
    prompt = (line * 300)[:20_000]
    start = time.perf_counter()
    for _ in range(20):
        estimate_tokens(prompt)
    assert (time.perf_counter() - start) / 20 < 0.02


def test_messages_estimate_adds_framing_per_message():
    messages = [Message("system", "Be brief."), Message("user", "Hi")]
    content = estimate_tokens("Be brief.") + estimate_tokens("Hi")
    assert estimate_messages_tokens(messages) == content + 2 * 4 + 3
    assert estimate_messages_tokens([]) == 3
