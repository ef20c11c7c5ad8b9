"""`lab import` and `lab check` as a script uses them: exit statuses, the report beside the
experiment, one line per problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "core" / "importers" / "data"
LAB = [sys.executable, "-m", "lab"]


def lab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_import_writes_the_experiment_and_the_report_and_exits_6_when_parts_were_left_out(tmp_path):
    out = tmp_path / "support.toml"
    result = lab("import", "promptfoo", str(DATA / "promptfoo" / "promptfooconfig.yaml"),
                 "--out", str(out))
    assert result.returncode == 6, result.stderr
    assert "5 not converted" in result.stdout and "Traceback" not in result.stderr
    report = (tmp_path / "support.import-report.md").read_text()
    assert "## Not converted" in report and "output.length < 500" in report
    assert "sk-never-copy-this" not in report + out.read_text()
    again = lab("import", "promptfoo", str(DATA / "promptfoo" / "promptfooconfig.yaml"),
                "--out", str(out))
    assert again.returncode == 2 and "already exists; pass --force" in again.stderr
    forced = lab("import", "promptfoo", str(DATA / "promptfoo" / "promptfooconfig.yaml"),
                 "--out", str(out), "--force")
    assert forced.returncode == 6


def test_a_complete_import_exits_0_and_defaults_to_beside_the_source(tmp_path):
    source = tmp_path / "jokes"
    (source / "evals").mkdir(parents=True)
    for part in ("evals/jokes.yaml", "data/jokes/samples.jsonl", "modelgraded/humor.yaml"):
        target = source / part
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((DATA / "evals" / "registry" / part).read_text())
    result = lab("import", "openai-evals", str(source / "evals" / "jokes.yaml"),
                 "--model", "openai/gpt-4o")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (source / "evals" / "jokes.toml").exists()
    assert (source / "evals" / "jokes.import-report.md").exists()


def test_an_unreadable_source_is_one_line_naming_the_file_and_line(tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts:\n  - hi\nproviders:\n  - openai:gpt-4o-mini\n   bad: [\n")
    result = lab("import", "promptfoo", str(config))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"lab: {config}, line ") and "not valid YAML" in line
    assert not (tmp_path / "promptfooconfig.toml").exists()


def test_check_reports_every_problem_one_line_each_and_nothing_is_sent(tmp_path):
    exp = tmp_path / "broken.toml"
    exp.write_text('name = "x"\n\n[[variants]]\nname = "A"\nmodel = "nowhere/m"\n'
                   'system = "{{persona}}"\ntemperature = 9.0\n\n[cases]\nuser = "{{q}}"\n'
                   'rows = [{ q = "hi" }]\n')
    result = lab("check", str(exp), "--db", str(tmp_path / "w.db"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert "no provider named 'nowhere'" in lines[0] and "{{persona}}" in lines[1]
    as_json = lab("check", str(exp), "--db", str(tmp_path / "w.db"), "--json")
    document = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and document["ok"] is False and len(document["problems"]) == 2
    assert document["estimate"] is None
    missing = lab("check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml: no such file" in missing.stderr
