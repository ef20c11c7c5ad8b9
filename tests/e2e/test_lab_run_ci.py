"""`lab run` as a CI job uses it: exit statuses for errors and thresholds, JUnit XML, and a
provider that cannot be reached stopping the run before anything is sent."""

from __future__ import annotations

import xml.etree.ElementTree as ET


from tests.helpers.experiments import JUDGE_MODEL, experiment_text
from tests.helpers.fake_provider import FakeProviderServer, http_error, reply
from tests.helpers.lab_process import lab, write


def b_fails_its_check(server: FakeProviderServer, tmp_path):
    """Variant B answers without the word the check wants; A passes everything."""
    text = experiment_text(server)
    at = text.index('name = "B"')
    text = text[:at] + text[at:].replace("fake/gpt-4o-mini", f"fake/{JUDGE_MODEL}", 1)
    server.script(*[reply("Sorry, I cannot help.")] * 3, model=JUDGE_MODEL)
    return write(tmp_path, text)


def no_retries(text: str) -> str:
    return text.replace("concurrency = 4", "concurrency = 4\nmax_retries = 0")


def test_every_call_failing_is_exit_4_unless_errors_are_allowed(server, tmp_path):
    exp = write(tmp_path, no_retries(experiment_text(server)))
    server.default = http_error(500, message="the model fell over")
    result = lab("run", str(exp), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 4, result.stderr
    assert "lab: 6 calls ended in errors (A: 3, B: 3)." in result.stderr
    allowed = lab("run", str(exp), "--db", str(tmp_path / "b.db"), "--allow-errors")
    assert allowed.returncode == 0, allowed.stderr
    tolerated = lab("run", str(exp), "--db", str(tmp_path / "c.db"), "--max-errors", "6")
    assert tolerated.returncode == 0, tolerated.stderr
    too_many = lab("run", str(exp), "--db", str(tmp_path / "d.db"), "--max-errors", "5")
    assert too_many.returncode == 5, too_many.stderr
    assert "6 calls ended in errors (A: 3, B: 3); --max-errors allows 5" in too_many.stderr


def test_fail_under_for_the_run_and_for_a_variant(server, tmp_path):
    exp = b_fails_its_check(server, tmp_path)
    db = tmp_path / "w.db"
    result = lab("run", str(exp), "--db", str(db), "--fail-under", "90%", "--fail-under", "A=1")
    assert result.returncode == 5, result.stderr
    assert "lab: the run passed 50.0% of its checked outputs (3/6), under 90.0%." in result.stderr
    assert "variant A" not in result.stderr  # A passed all of its outputs
    server.script(*[reply("Sorry, I cannot help.")] * 3, model=JUDGE_MODEL)
    each = lab("run", str(exp), "--db", str(db), "--no-cache", "--fail-under", "*=0.5")
    assert each.returncode == 5, each.stderr
    assert "variant B passed 0.0% of its checked outputs (0/3), under 50.0%" in each.stderr
    met = lab("run", str(exp), "--db", str(db), "--fail-under", "A=0.9")  # answered from the log
    assert met.returncode == 0, met.stderr


def test_junit_has_a_test_case_per_cell_with_failures_and_errors(server, tmp_path):
    exp = b_fails_its_check(server, tmp_path)
    junit = tmp_path / "report.xml"
    result = lab("run", str(exp), "--db", str(tmp_path / "w.db"), "--junit", str(junit),
                 "--allow-errors")
    assert result.returncode == 0, result.stderr
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "3", "0")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["A", "B"]
    b_cases = suites["B"].findall("testcase")
    assert [c.get("name") for c in b_cases] == ["case 1", "case 2", "case 3"]
    failure = b_cases[0].find("failure")
    assert failure.get("message").startswith("mentions order: ")
    assert "Sorry, I cannot help." in b_cases[0].find("system-out").text
    assert all(c.find("failure") is None for c in suites["A"].findall("testcase"))
    model = suites["B"].find("properties/property[@name='model']").get("value")
    assert model == f"fake/{JUDGE_MODEL}"


def test_junit_marks_a_failed_call_as_an_error(server, tmp_path):
    exp = write(tmp_path, no_retries(experiment_text(server)))
    server.script(http_error(400, message="bad things"))
    server.default = reply()
    junit = tmp_path / "report.xml"
    result = lab("run", str(exp), "--db", str(tmp_path / "w.db"), "--junit", str(junit),
                 "--concurrency", "1")
    assert result.returncode == 4, result.stderr
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("6", "1", "0")
    (error,) = root.iter("error")
    assert "bad things" in error.text


def test_an_unreachable_provider_stops_before_anything_is_sent(server, tmp_path):
    text = no_retries(experiment_text(server)).replace(server.base_url("openai"),
                                                       "http://127.0.0.1:9/v1")
    exp = write(tmp_path, text)
    result = lab("run", str(exp), "--db", str(tmp_path / "w.db"))
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("lab: fake: cannot reach 127.0.0.1:9")
    assert line.endswith("Nothing was sent. Pass --yes to run anyway.")
    anyway = lab("run", str(exp), "--db", str(tmp_path / "w.db"), "--yes")
    assert anyway.returncode == 4, anyway.stderr  # it ran, and every call failed to connect
    assert "lab: warning: fake: cannot reach 127.0.0.1:9" in anyway.stderr
