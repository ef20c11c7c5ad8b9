"""`lab run` and `lab log` on provider answers seen in real traffic (issue #16): what a user reads
when a provider is out of credit, when the model refuses, when nobody reported the usage."""

from __future__ import annotations

import re


from tests.helpers.experiments import experiment_text
from tests.helpers.fake_provider import http_error, refusal, reply
from tests.helpers.lab_process import lab, rows, write

CREDIT = ("Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
          "upgrade or purchase credits.")


def test_a_provider_out_of_credit_gets_one_message_saying_what_to_do(server, db, tmp_path):
    server.default = http_error(400, type="invalid_request_error", message=CREDIT)
    exp = write(tmp_path, experiment_text(server, cases=5, concurrency=1))
    result = lab("run", str(exp), "--db", str(db), "--yes", "--concurrency", "1")
    assert result.returncode == 4, result.stderr  # calls ended in errors
    said = result.stdout + result.stderr
    assert said.count("credit balance is too low") == 1, said  # once, not once per call
    assert said.count("Add credit") == 1
    assert len(server.chat_requests()) == 1  # the other nine were never sent
    (hint,) = [line for line in result.stderr.splitlines() if "--resume" in line]
    assert "9 calls were not sent" in hint and f"lab run {exp} --resume 1" in hint
    logged = rows(db, "SELECT error_message FROM calls ORDER BY id")
    assert sum(r["error_message"].startswith("Not sent: ") for r in logged) == 9


def test_the_log_shows_a_refusal_and_unknown_tokens(server, db, tmp_path):
    server.script(refusal("I'm sorry, I can't help with that."), reply(usage=False), model="gpt-4o-mini")
    exp = write(tmp_path, experiment_text(server, cases=1, concurrency=1))
    assert lab("run", str(exp), "--db", str(db), "--yes", "--concurrency", "1").returncode == 0
    log = lab("log", "--db", str(db))
    assert log.returncode == 0, log.stderr
    head, newest, oldest = [line for line in log.stdout.splitlines() if set(line) - {"─"}]
    cells = [re.split(r"\s{2,}", line.strip()) for line in (head, newest, oldest)]
    status, tokens = cells[0].index("status"), cells[0].index("tokens")
    assert cells[2][status] == "refused" and "I'm sorry" in oldest
    assert cells[1][status] == "ok" and cells[1][tokens] == "—"
