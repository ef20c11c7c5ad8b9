"""What a call costs: the shipped price table, the user's overrides, and the per-provider formulas."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab.core.model import Usage
from lab.core.providers.pricing import (
    PriceTable,
    PriceTableError,
    default_prices_path,
    ensure_user_copy,
)
from lab.core.providers.usage import normalise


def test_shipped_table_loads_and_covers_each_hosted_family() -> None:
    table = PriceTable.load()
    assert default_prices_path().name == "prices.toml"
    for kind, model in [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ("gemini", "gemini-2.5-flash")]:
        price = table.price_for(kind, model)
        assert price is not None and price.output > price.input > 0


def test_dated_model_names_get_the_longest_matching_price() -> None:
    table = PriceTable.load()
    assert table.price_for("openai", "gpt-4o-mini-2024-07-18") == table.price_for("openai", "gpt-4o-mini")
    assert table.price_for("openai", "gpt-4o-2024-08-06") == table.price_for("openai", "gpt-4o")
    assert table.price_for("gemini", "models/gemini-2.5-flash") == table.price_for("gemini", "gemini-2.5-flash")
    assert table.price_for("anthropic", "claude-sonnet-4-5-20250929") == table.price_for("anthropic", "claude-sonnet-4-5")
    assert table.price_for("gemini", "gemini-2.5-flash-preview-09-2025") == table.price_for("gemini", "gemini-2.5-flash")
    # A longer name is another model, not a version: unknown rather than priced like its stem.
    assert table.price_for("openai", "o3-pro") is None
    assert table.price_for("openai", "gpt-4o-minimal") is None


def test_unknown_model_costs_none_and_local_costs_zero() -> None:
    table = PriceTable.load()
    usage = Usage(input_tokens=1000, output_tokens=500)
    assert table.cost("openai", "my-finetune-xyz", usage) is None  # shown as unknown, not as free
    assert table.cost("openai", "my-finetune-xyz", usage, local=True) == 0.0


def test_openai_cached_tokens_are_billed_at_the_cache_price() -> None:
    table = PriceTable.load()
    p = table.price_for("openai", "gpt-4o")
    raw = {"prompt_tokens": 2000, "completion_tokens": 300,
           "prompt_tokens_details": {"cached_tokens": 1500}, "completion_tokens_details": {"reasoning_tokens": 100}}
    counts = normalise("openai", raw)
    assert counts.usage == Usage(input_tokens=2000, output_tokens=300, cached_tokens=1500, reasoning_tokens=100)
    expected = (500 * p.input + 1500 * p.cached_input + 300 * p.output) / 1e6
    assert table.cost("openai", "gpt-4o", counts.usage) == pytest.approx(expected)


def test_anthropic_cache_writes_and_reads_have_their_own_prices() -> None:
    table = PriceTable.load()
    p = table.price_for("anthropic", "claude-sonnet-4-5")
    raw = {"input_tokens": 100, "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 4000,
           "output_tokens": 50}
    counts = normalise("anthropic", raw)
    assert counts.usage.input_tokens == 5100 and counts.usage.cached_tokens == 4000
    assert counts.usage.cache_write_tokens == 1000 and counts.usage.cache_write_1h_tokens == 0
    cost = table.cost("anthropic", "claude-sonnet-4-5", counts.usage)
    expected = (100 * p.input + 1000 * p.cache_write + 4000 * p.cached_input + 50 * p.output) / 1e6
    assert cost == pytest.approx(expected)


def test_gemini_thoughts_are_output() -> None:
    counts = normalise("gemini", {"promptTokenCount": 28, "candidatesTokenCount": 643,
                                  "thoughtsTokenCount": 1174, "totalTokenCount": 1845})
    assert counts.usage == Usage(input_tokens=28, output_tokens=643 + 1174, reasoning_tokens=1174)


def test_user_copy_overrides_model_by_model(tmp_path: Path) -> None:
    user = tmp_path / "prices.toml"
    user.write_text('[openai."gpt-4o"]\ninput = 1.0\noutput = 2.0\n\n[openai."my-model"]\ninput = 0\noutput = 0\n')
    table = PriceTable.load(user)
    assert table.price_for("openai", "gpt-4o").input == 1.0
    assert table.price_for("openai", "my-model").output == 0
    assert table.price_for("openai", "gpt-4o-mini") == PriceTable.load().price_for("openai", "gpt-4o-mini")
    assert PriceTable.load(tmp_path / "absent.toml").price_for("openai", "my-model") is None


def test_ensure_user_copy_gives_an_editable_file(tmp_path: Path) -> None:
    path = ensure_user_copy(tmp_path / "data" / "prices.toml")
    assert path.read_text() == default_prices_path().read_text()
    path.write_text('[openai."x"]\ninput = 1\noutput = 1\n')
    ensure_user_copy(path)  # never overwrites the user's edits
    assert "x" in path.read_text()


@pytest.mark.parametrize("content, complaint", [
    ('[openai."gpt-4o"\ninput = 1', "line 1"),
    ('[openai."gpt-4o"]\ninput = "cheap"\noutput = 1\n', "must be numbers"),
    ('[openai."gpt-4o"]\ninput = 1\n', "needs both"),
])
def test_a_broken_user_file_is_reported_with_its_name(tmp_path: Path, content: str, complaint: str) -> None:
    user = tmp_path / "prices.toml"
    user.write_text(content)
    with pytest.raises(PriceTableError) as caught:
        PriceTable.load(user)
    assert str(user) in str(caught.value) and complaint in str(caught.value)
