"""What a call costs: the shipped price table, the user's overrides, and the per-provider formulas."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from lab.core.model import Usage
from lab.core.providers.pricing import (
    LongContext,
    ModelPrice,
    PriceTable,
    PriceTableError,
    default_prices_path,
    ensure_user_copy,
    save_user_price,
)
from lab.core.providers.usage import normalise

# A table of round numbers, so each test's expected cost can be read off it.
TABLE = """
[anthropic]
batch_discount = 0.5

[anthropic."claude-x"]
since = 2026-10-07
input = 2.0
output = 10.0
cached_input = 0.1
cache_write = 2.5
cache_write_1h = 4.0

[anthropic."claude-x".long_context]
above = 100_000
input = 4.0
output = 20.0
cached_input = 0.2
cache_write = 5.0
cache_write_1h = 8.0

[openai."gpt-x"]
since = 2026-09-01
retires = 2027-01-14
input = 1.0
output = 8.0
cached_input = 0.25
cache_write = 1.25

[openai."gpt-x".fine_tuning]
training = 25.0
training_ends = 2027-01-06
input = 3.0
cached_input = 0.75
output = 12.0
batch_discount = 0.5

[openai."host-model"]
input = 1.0
output = 1.0

[[openai."host-model".scheduled]]
since = 2027-01-01
input = 2.0

[retired.openai]
"gpt-old" = 2026-10-23
"gpt-older" = true
"""


@pytest.fixture
def table(tmp_path: Path) -> PriceTable:
    path = tmp_path / "shipped.toml"
    path.write_text(TABLE)
    return PriceTable.load(default_path=path)


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
    ('[openai."gpt-4o"]\ninput = "cheap"\noutput = 1\n', 'line 2: [openai."gpt-4o"] input: prices must be numbers'),
    ('[openai."gpt-4o"]\ninput = 1\n', 'line 1: [openai."gpt-4o"]: needs both'),
    ('[openai."gpt-4o"]\ninput = 1\noutput = 2\ncached_imput = 1\n', "line 4: [openai.\"gpt-4o\"] cached_imput: unknown field"),
    ('[openai."gpt-4o"]\ninput = 1\noutput = 2\nsince = "last year"\n', "line 4: [openai.\"gpt-4o\"] since: must be a date"),
    ('[openai."gpt-4o"]\ninput = 1\noutput = 2\nbatch_discount = 50\n', "batch_discount: must be a fraction"),
    ('[openai."gpt-4o"]\ninput = 1\noutput = 2\n\n[openai."gpt-4o".long_context]\ninput = 2\noutput = 3\n',
     'line 5: [openai."gpt-4o".long_context] above: needs the threshold'),
    ('[openai."a"]\ninput = 1\noutput = 2\n[[openai."a".scheduled]]\ninput = 2\n',
     '[openai."a".scheduled] since: a scheduled price needs the date'),
    ('[openai."a"]\ninput = 1\noutput = 2\n[openai."a".fine_tuning]\ninput = 2\noutput = 3\n',
     'line 4: [openai."a".fine_tuning]: needs \'training\''),
    ('[openai]\nbatch = 0.5\n', "line 2: [openai] batch: is neither a model's table nor a setting"),
    ('[retired.openai]\n"gpt-old" = "soon"\n', 'line 2: [retired."openai"] gpt-old: must be a date'),
])
def test_a_broken_user_file_is_reported_with_its_name(tmp_path: Path, content: str, complaint: str) -> None:
    user = tmp_path / "prices.toml"
    user.write_text(content)
    with pytest.raises(PriceTableError) as caught:
        PriceTable.load(user)
    assert str(user) in str(caught.value) and complaint in str(caught.value)


# ----- the shipped table --------------------------------------------------------------------------


def test_every_shipped_model_has_input_output_and_a_since_date() -> None:
    """The table cannot slip back to undated, unverified figures."""
    text = default_prices_path().read_text()
    assert "unverified" not in text.lower()
    assert "written" not in tomllib.loads(text)  # the old "2025 list prices, unverified" marker
    entries = PriceTable.load().entries()
    assert {kind for kind, _, _ in entries} == {"openai", "anthropic", "gemini"}
    assert len(entries) > 50
    for kind, model, price in entries:
        assert price.input > 0 and price.output > 0, (kind, model)
        assert price.since is not None and price.since <= dt.date(2026, 12, 1), (kind, model)
        if price.long_context is not None:
            assert price.long_context.input > price.input, (kind, model)
        if price.fine_tuning is not None:
            assert price.fine_tuning.training > 0 and price.fine_tuning.inference.since is not None


def test_shipped_figures_match_the_reference() -> None:
    table = PriceTable.load()
    day = dt.date(2026, 12, 1)
    pro = table.price_for("gemini", "gemini-2.5-pro", day)
    assert (pro.input, pro.cached_input, pro.output) == (1.25, 0.125, 10.0)  # cached was 0.31
    assert pro.long_context == LongContext(200_000, 2.50, 15.0, cached_input=0.25)
    assert table.price_for("gemini", "gemini-2.5-flash", day).cached_input == 0.03
    sonnet = table.price_for("anthropic", "claude-sonnet-5-5", day)
    assert (sonnet.input, sonnet.cache_write, sonnet.cache_write_1h, sonnet.cached_input, sonnet.output) == (
        2.0, 2.5, 4.0, 0.1, 10.0)
    assert table.price_for("openai", "gpt-6.1-terra", day).cache_write == 1.25
    assert table.price_for("anthropic", "claude-sonnet-4") is None  # retired, no longer priced
    assert table.retirement("anthropic", "claude-sonnet-4-20250514").on == dt.date(2026, 6, 15)
    assert table.retirement("openai", "gpt-5").on == dt.date(2026, 12, 11)
    assert table.retirement("openai", "gpt-5.5") is None
    # Gemini 3.8 Flash's promotion ends with 2026.
    assert table.price_for("gemini", "gemini-3.8-flash", dt.date(2026, 12, 31)).input == 0.75
    assert table.price_for("gemini", "gemini-3.8-flash", dt.date(2027, 1, 1)).input == 1.50


# ----- cache writes, long prompts, batch, dated prices ------------------------------------------


def test_anthropic_five_minute_and_one_hour_cache_writes_have_their_own_prices(table) -> None:
    raw = {"input_tokens": 100, "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 4000,
           "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
           "output_tokens": 50}
    usage = normalise("anthropic", raw).usage
    assert (usage.input_tokens, usage.cached_tokens) == (7100, 4000)
    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (3000, 2000)
    expected = (100 * 2.0 + 1000 * 2.5 + 2000 * 4.0 + 4000 * 0.1 + 50 * 10.0) / 1e6
    assert table.cost("anthropic", "claude-x", usage) == pytest.approx(expected)


def test_cache_reads_and_openai_cache_writes(table) -> None:
    raw = {"prompt_tokens": 10_000, "completion_tokens": 100,
           "prompt_tokens_details": {"cached_tokens": 6000, "cache_write_tokens": 3000}}
    usage = normalise("openai", raw).usage
    assert (usage.cached_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (6000, 3000, 0)
    expected = (1000 * 1.0 + 6000 * 0.25 + 3000 * 1.25 + 100 * 8.0) / 1e6
    assert table.cost("openai", "gpt-x", usage) == pytest.approx(expected)


def test_a_long_prompt_is_billed_at_the_tier_for_every_token(table) -> None:
    at = Usage(input_tokens=100_000, output_tokens=1000, cached_tokens=50_000,
               cache_write_tokens=20_000, cache_write_1h_tokens=5_000)
    base = (30_000 * 2.0 + 50_000 * 0.1 + 15_000 * 2.5 + 5_000 * 4.0 + 1000 * 10.0) / 1e6
    assert table.cost("anthropic", "claude-x", at) == pytest.approx(base)  # at the threshold: not above
    above = Usage(input_tokens=100_001, output_tokens=1000, cached_tokens=50_000,
                  cache_write_tokens=20_000, cache_write_1h_tokens=5_000)
    tier = (30_001 * 4.0 + 50_000 * 0.2 + 15_000 * 5.0 + 5_000 * 8.0 + 1000 * 20.0) / 1e6
    assert table.cost("anthropic", "claude-x", above) == pytest.approx(tier)
    # The shipped Gemini 2.5 Pro: 1.25 / 10 up to 200K prompt tokens, 2.50 / 15 for all of a longer one.
    shipped = PriceTable.load()
    assert shipped.cost("gemini", "gemini-2.5-pro", Usage(200_001, 1000)) == pytest.approx(
        (200_001 * 2.50 + 1000 * 15.0) / 1e6)
    assert shipped.cost("gemini", "gemini-2.5-pro", Usage(200_000, 1000)) == pytest.approx(
        (200_000 * 1.25 + 1000 * 10.0) / 1e6)


def test_batch_price(table) -> None:
    usage = Usage(input_tokens=10_000, output_tokens=1000, cached_tokens=4000)
    standard = table.cost("anthropic", "claude-x", usage)
    assert table.price_for("anthropic", "claude-x").batch_discount == 0.5  # the kind's setting
    assert table.cost("anthropic", "claude-x", usage, batch=True) == pytest.approx(standard / 2)
    # No batch discount known for this model: the batch price is unknown, not the standard one.
    assert table.cost("openai", "gpt-x", usage, batch=True) is None
    assert table.cost("openai", "my-local", usage, batch=True, local=True) == 0.0
    shipped = PriceTable.load()
    assert shipped.cost("openai", "gpt-6.1-terra", usage, batch=True) == pytest.approx(
        shipped.cost("openai", "gpt-6.1-terra", usage) / 2)


def test_a_scheduled_price_applies_from_its_date(table) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("openai", "host-model", usage, on=dt.date(2026, 12, 31)) == pytest.approx(2.0)
    assert table.cost("openai", "host-model", usage, on=dt.date(2027, 1, 1)) == pytest.approx(3.0)
    assert table.price_for("openai", "host-model", dt.date(2027, 1, 1)).output == 1.0  # carried over


def test_retirement_dates(table) -> None:
    assert table.retirement("openai", "gpt-x-2026-09-01").on == dt.date(2027, 1, 14)
    gone = table.retirement("openai", "gpt-old")
    assert gone.retired(dt.date(2026, 10, 23)) and not gone.retired(dt.date(2026, 10, 22))
    assert table.retirement("openai", "gpt-older").retired(dt.date(2000, 1, 1))  # date unknown
    assert table.retirement("openai", "ft:gpt-x:org::abc").on == dt.date(2027, 1, 14)
    assert table.retirement("openai", "host-model") is None


def test_fine_tuning_prices(table) -> None:
    tuning = table.fine_tuning("openai", "gpt-x-2026-09-01")
    assert tuning.training == 25.0 and tuning.training_ends == dt.date(2027, 1, 6)
    assert tuning.training_cost(2_000_000, epochs=3) == pytest.approx(150.0)
    assert (tuning.inference.input, tuning.inference.cached_input, tuning.inference.output) == (3.0, 0.75, 12.0)
    assert tuning.inference.since == dt.date(2026, 9, 1)  # the base entry's date
    # A call to the tuned model is priced at the tuned rates, not the base model's.
    usage = Usage(input_tokens=1000, output_tokens=100)
    assert table.cost("openai", "ft:gpt-x-2026-09-01:acme::B3x9", usage) == pytest.approx(
        (1000 * 3.0 + 100 * 12.0) / 1e6)
    assert table.cost("openai", "ft:gpt-x:acme::B3x9", usage, batch=True) == pytest.approx(
        (1000 * 3.0 + 100 * 12.0) / 2e6)
    assert table.fine_tuning("openai", "host-model") is None
    assert table.cost("openai", "ft:host-model:acme::1", usage) is None  # no tuned price: unknown
    shipped = PriceTable.load().fine_tuning("openai", "gpt-4o-mini-2024-07-18")
    assert (shipped.training, shipped.inference.input, shipped.inference.output) == (3.0, 0.30, 1.20)


# ----- adding a price to the user's file ----------------------------------------------------------


def test_save_user_price_creates_the_file_and_the_price_overrides(tmp_path: Path) -> None:
    user = tmp_path / "data" / "prices.toml"
    usage = Usage(input_tokens=1000, output_tokens=100)
    assert PriceTable.load(user).cost("openai", "my-model", usage) is None
    save_user_price(user, "openai", "my-model", ModelPrice(input=1.5, output=6.0, since=dt.date(2026, 12, 1)))
    table = PriceTable.load(user)
    assert table.user_path == user
    assert table.price_for("openai", "my-model") == ModelPrice(input=1.5, output=6.0, since=dt.date(2026, 12, 1))
    assert table.cost("openai", "my-model", usage) == pytest.approx((1000 * 1.5 + 100 * 6.0) / 1e6)
    assert table.price_for("openai", "gpt-4o") == PriceTable.load().price_for("openai", "gpt-4o")


def test_save_user_price_replaces_one_entry_and_keeps_the_rest(tmp_path: Path) -> None:
    user = tmp_path / "prices.toml"
    user.write_text('# my prices\n\n[openai."gpt-4o"]\ninput = 1.0  # negotiated\noutput = 2.0\n\n'
                    '[openai."gpt-4o".long_context]\nabove = 1000\ninput = 9.0\noutput = 9.0\n\n'
                    '# the one we self-host\n[openai."mine"]\ninput = 0\noutput = 0\n')
    price = ModelPrice(input=2.0, output=3.0, cached_input=0.5, cache_write=2.5, cache_write_1h=4.0,
                       batch_discount=0.5, long_context=LongContext(above=5000, input=4.0, output=6.0))
    save_user_price(user, "openai", "gpt-4o", price)
    text = user.read_text()
    assert text.startswith("# my prices\n") and "# the one we self-host\n[openai.\"mine\"]" in text
    assert "negotiated" not in text and text.count('[openai."gpt-4o"]') == 1
    table = PriceTable.load(user)
    assert table.price_for("openai", "gpt-4o") == price
    assert table.price_for("openai", "mine").input == 0
    # And a new model goes at the end, leaving the others alone.
    save_user_price(user, "anthropic", "claude-new", ModelPrice(input=1.0, output=5.0))
    table = PriceTable.load(user)
    assert table.price_for("anthropic", "claude-new").output == 5.0
    assert table.price_for("openai", "gpt-4o").long_context.above == 5000


def test_save_user_price_leaves_a_file_it_cannot_edit_untouched(tmp_path: Path) -> None:
    user = tmp_path / "prices.toml"
    original = '[openai]\n"gpt-4o" = { input = 1.0, output = 2.0 }\n'
    user.write_text(original)
    with pytest.raises(PriceTableError) as caught:
        save_user_price(user, "openai", "gpt-4o", ModelPrice(input=2.0, output=3.0))
    assert "add it by hand" in str(caught.value) and str(user) in str(caught.value)
    assert user.read_text() == original
