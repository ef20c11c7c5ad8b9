"""Trying a check on one output: every grader, python in a worker with its limit and only when
allowed, and an LLM judge through one logged call."""

from __future__ import annotations

import asyncio

import pytest

from lab.core.checks.form import new_check
from lab.core.model import Check, TestCase
from lab.core.providers import ProviderConfig
from lab.core.run.try_check import CannotTry, try_check, try_judge
from tests.helpers.fake_provider import API_KEY, FakeProviderServer
from tests.helpers.fake_provider.behaviours import reply

CASE = TestCase({"customer": "Ana"})


@pytest.mark.parametrize("kind,output,passed", [
    ("equals", "{{expected}}", True),
    ("contains", "here is the text to find", True),
    ("not-contains", "speaking as an AI model", False),
    ("regex", " leading space", False),
    ("json", '{"a": 1}', True),
    ("json-schema", "[1]", False),
    ("length", "short", True),
    ("python", "", False),
])
def test_every_type_grades_at_once(kind, output, passed):
    check = new_check(kind, [])
    case = TestCase({"expected": "{{expected}}"})
    result = try_check(check, output, case, may_run_code=True)
    assert result.passed is passed and result.reason


def test_python_runs_in_a_worker_with_its_limit_and_only_when_allowed():
    slow = Check("python", {"expression": "sum(range(10**13)) > 0", "timeout": 0.5}, "loop")
    result = try_check(slow, "x", None, may_run_code=True)
    assert not result.passed and "longer than 0.5 s" in result.reason
    with pytest.raises(CannotTry, match="not trusted"):
        try_check(Check("python", {"expression": "True"}, "p"), "x", None, may_run_code=False)


def test_a_broken_check_and_a_judge_say_what_to_do():
    with pytest.raises(CannotTry, match="not a valid regular expression"):
        try_check(Check("regex", {"pattern": "("}), "x", None, may_run_code=True)
    with pytest.raises(CannotTry, match="needs a model call"):
        try_check(Check("judge", {"rubric": "r"}), "x", None, may_run_code=True)


def test_a_judge_is_one_call_with_its_verdict(monkeypatch):
    server = FakeProviderServer().start()
    monkeypatch.setenv("LAB_TRY_KEY", API_KEY)
    try:
        server.script(reply('{"score": 5, "reason": "warm and by name"}'))
        fake = ProviderConfig(name="fake", kind="openai", base_url=server.base_url("openai"),
                              api_key_env="LAB_TRY_KEY", local=False)
        check = Check("judge", {"rubric": "Greets {{customer}} by name?"}, "greets")
        result, call = asyncio.run(try_judge(check, "Hi Ana!", CASE, "fake/gpt-4o", [fake]))
        assert result.passed and result.score == 5 and result.reason.endswith("warm and by name")
        assert call.status == "ok" and call.variant_name == "judge: greets"
        assert "Greets Ana by name?" in str(server.chat_requests()[0])
        with pytest.raises(CannotTry, match="names no provider"):
            asyncio.run(try_judge(check, "x", CASE, "nowhere/model", [fake]))
    finally:
        server.stop()
