"""`lab export` as a script uses it: a real judged workspace, the real entry point, files that
their consumers load, and one clear line when there is nothing (right) to write."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import judged_workspace
from tests.helpers.hf_readers import load_rows

LAB = [sys.executable, "-m", "lab"]


def lab(*args: str):
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_export_sft_from_a_selection(tmp_path):
    ws = judged_workspace.build(tmp_path / "ws.db")
    out = tmp_path / "out"
    result = lab("export", "--db", str(ws.path), "--format", "openai-sft", "--out", str(out),
                 "--variant", "A", "--min-score", "4", "--split", "1.0", "--seed", "7",
                 "--licence", "CC-BY-4.0", "--name", "support-replies")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Wrote ")
    train = out / "train.jsonl"
    assert train.exists() and (out / "README.md").exists()
    rows = load_rows(train, tmp_path / "hf-cache")
    assert rows and all(r["messages"][-1]["role"] == "assistant" for r in rows)
    # Few-shot turns are in the example but carry weight 0: shown, not trained on.
    weights = [m.get("weight") for r in rows for m in r["messages"] if m["role"] == "assistant"]
    assert 0 in weights
    card = (out / "README.md").read_text()
    assert "CC-BY-4.0" in card and "support-replies" in card


def test_export_json_summary_and_dropping_the_prompt(tmp_path):
    ws = judged_workspace.build(tmp_path / "ws.db")
    result = lab("export", "--db", str(ws.path), "--format", "trl-sft", "--out",
                 str(tmp_path / "trl"), "--variant", "A", "--system", "replace",
                 "--short-system", "You are Northwind support.", "--examples", "drop", "--json",
                 "--force")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["written"] is True and summary["format"] == "trl-sft"
    first = json.loads((tmp_path / "trl" / "train.jsonl").read_text().splitlines()[0])
    assert first["prompt"][0] == {"role": "system", "content": "You are Northwind support."}


def test_empty_selection_is_one_clear_line(tmp_path):
    ws = judged_workspace.build(tmp_path / "ws.db")
    result = lab("export", "--db", str(ws.path), "--format", "openai-sft", "--out",
                 str(tmp_path / "none"), "--tag", "no-such-tag")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("lab: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "none" / "train.jsonl").exists()


def test_rule_violations_write_nothing_unless_forced(tmp_path):
    ws = judged_workspace.build(tmp_path / "ws.db")
    args = ["export", "--db", str(ws.path), "--format", "openai-sft", "--out",
            str(tmp_path / "few"), "--experiment", "gemini-check"]
    refused = lab(*args)
    assert refused.returncode == 2
    assert "rules" in refused.stderr.splitlines()[-1] and "--force" in refused.stderr
    assert not (tmp_path / "few" / "train.jsonl").exists()
    forced = lab(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "few" / "train.jsonl").exists()
