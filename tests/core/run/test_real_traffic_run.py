"""A run against provider answers seen in real traffic (issue #16), logged and read back: refusals,
unreported usage, billing stops, a server that refuses stream_options, a rate-limit ceiling."""

from __future__ import annotations

import pytest
from lab.core.workspace.rows import call_from_row
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import experiment_text, run_experiment
from tests.helpers.fake_provider import FakeProviderServer, refusal, reply


@pytest.fixture
def server(fake_server_checked: FakeProviderServer) -> FakeProviderServer:
    return fake_server_checked


@pytest.fixture
def db(tmp_path):
    return tmp_path / "workspace.db"


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
