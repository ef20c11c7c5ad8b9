"""A run against provider answers seen in real traffic (issue #16), logged and read back: refusals,
unreported usage, billing stops, a server that refuses stream_options, a rate-limit ceiling."""

from __future__ import annotations

import asyncio

import pytest
from lab.core.run.report import run_report
from lab.core.run.runner import Runner
from lab.core.run.setup import RunOptions
from lab.core.workspace.providers import save_provider
from lab.core.workspace.rows import call_from_row
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import experiment_text, make_client, prepare, run_experiment
from tests.helpers.fake_provider import http_error, refusal, reply


def test_a_refusal_is_logged_as_refused_with_its_text_and_graded(server, db):
    said = "I'm sorry, I can't help with your order."
    server.script(refusal(said), model="gpt-4o-mini")
    finished = run_experiment(experiment_text(server, cases=1, concurrency=1), db)
    assert (finished.status, finished.errors) == ("done", 0)
    with open_workspace(db) as store:
        (refused,) = [c for c in store.calls_for_run(finished.run_id) if c["finish_reason"] == "refusal"]
        others = [c for c in store.calls_for_run(finished.run_id) if c["id"] != refused["id"]]
    assert refused["status"] == "ok" and refused["response_text"] == said
    assert refused["output_tokens"] > 0  # billed like any reply
    assert refused["checks"] == {"mentions order": True}  # the checks read the refusal as the output
    assert call_from_row(refused).refused and not call_from_row(others[0]).refused


def test_usage_nobody_reported_is_logged_as_unknown_and_left_out_of_the_sums(server, db):
    # Case 0 of A gets no usage (Ollama's /v1 streams), case 0 of B fails; case 1 of both is normal.
    server.script(reply(usage=False), http_error(400, message="bad temperature"), model="gpt-4o-mini")
    finished = run_experiment(experiment_text(server, cases=2, concurrency=1), db, RunOptions(concurrency=1))
    with open_workspace(db) as store:
        logged = {(c["variant_name"], c["case_index"]): c for c in store.calls_for_run(finished.run_id)}
        report = run_report(store, finished.run_id)
    unreported, failed = logged["A", 0], logged["B", 0]
    assert unreported["status"] == "ok" and failed["status"] == "error"
    for row in (unreported, failed):
        assert [row[k] for k in ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")] == [None] * 4
        assert row["cost_usd"] is None
        assert not call_from_row(row).usage.known
    by_name = {v.variant: v for v in report.variants}
    for variant in ("A", "B"):  # the sums hold what is known, and only that
        known = logged[variant, 1]
        assert known["input_tokens"] > 0
        assert by_name[variant].tokens == known["input_tokens"] + known["output_tokens"]
        assert by_name[variant].cost_usd == pytest.approx(known["cost_usd"])


CREDIT = ("Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
          "upgrade or purchase credits.")


def test_a_billing_stop_stops_the_provider_for_the_run(server, db):
    server.latency = 0.1  # the first calls are all in flight when the first answer comes
    server.default = http_error(400, type="invalid_request_error", message=CREDIT)
    finished = run_experiment(experiment_text(server, cases=6, concurrency=2), db, RunOptions(concurrency=2))
    assert (finished.status, finished.errors) == ("done", 12)
    sent = len(server.chat_requests())
    assert sent <= 2  # the calls in flight when it came; nothing after
    with open_workspace(db) as store:
        logged = store.calls_for_run(finished.run_id)
        report = run_report(store, finished.run_id)
    assert {c["error_type"] for c in logged} == {"QuotaExceeded"}
    not_sent = [c for c in logged if c["error_message"].startswith("Not sent: ")]
    assert len(not_sent) == 12 - sent and report.not_sent == 12 - sent
    for call in not_sent:
        assert call["cost_usd"] == 0 and call["latency_ms"] is None and call["input_tokens"] is None
        assert "credit balance is too low" in call["error_message"]
    # The report quotes the provider's answer once, as it was (not as "Not sent: ...").
    assert report.error_examples["QuotaExceeded"].startswith("fake: out of credit or quota")


def _without_inline_provider(text: str) -> str:
    """The experiment using the workspace's provider "fake" rather than defining its own."""
    start = text.index("[providers.fake]")
    return text[:start] + text[text.index("[[variants]]"):]


def test_a_refused_stream_options_is_remembered_in_the_workspace_providers_settings(server, db):
    server.refused_fields = {"stream_options"}
    with open_workspace(db) as store:
        save_provider(store, server.provider_config("openai", "fake", api_key_env="LAB_TEST_KEY"))
    text = _without_inline_provider(experiment_text(server, cases=2, concurrency=1))
    first = run_experiment(text, db, RunOptions(concurrency=1))
    assert (first.status, first.errors) == ("done", 0) and server.refused == 1
    with open_workspace(db) as store:
        (saved,) = [p for p in store.list_providers() if p["name"] == "fake"]
        assert saved["stream_usage"] is False
        assert all(not call_from_row(c).usage.known for c in store.calls_for_run(first.run_id))
    again = run_experiment(text, db, RunOptions(no_cache=True, concurrency=1))
    assert again.errors == 0 and server.refused == 1  # the next run never asks again


def test_a_refused_stream_options_of_a_file_s_own_provider_is_remembered_for_the_run(server, db):
    server.refused_fields = {"stream_options"}
    events: list = []
    runner = Runner(db, prepare(experiment_text(server, cases=3, concurrency=1), db, RunOptions(concurrency=1)),
                    on_event=events.append, client_factory=make_client)
    finished = asyncio.run(runner.run())
    assert (finished.status, finished.errors) == ("done", 0)
    assert server.refused == 1  # one refusal, then six calls without it
    (note,) = [w for w in runner.warnings if "stream_options" in w]
    assert "stream_usage = false" in note  # what to write in the file to skip the refused first call
