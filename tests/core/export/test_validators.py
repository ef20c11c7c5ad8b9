"""Each target's published rules, applied to records that break them (and to the reference's
own example lines, which must pass), and problems located by file and line."""

from __future__ import annotations

import json

import pytest
from lab.core.export.check_file import check_file
from lab.core.export.registry import get_format


def u(text="Capital of France?"):
    return {"role": "user", "content": text}


def a(text="Paris.", **extra):
    return {"role": "assistant", "content": text, **extra}


def turn(role, text="x"):
    return {"role": role, "parts": [{"text": text}]}


def dpo(**over):
    record = {"input": {"messages": [u()]}, "preferred_output": [a()],
              "non_preferred_output": [a("Lyon?")]}
    return {**record, **over}


BROKEN = [
    ("openai-sft", "sft", [1, 2], "format.not-object"),
    ("openai-sft", "sft", {"messages": []}, "openai.missing_messages_list"),
    ("openai-sft", "sft", {"messages": [u()], "text": "x"}, "openai.unrecognized_key"),
    ("openai-sft", "sft", {"messages": [u()]}, "openai.example_missing_assistant_message"),
    ("openai-sft", "sft", {"messages": [{"role": "bot", "content": "x"}, a()]},
     "openai.unrecognized_role"),
    ("openai-sft", "sft", {"messages": [{"content": "x"}, a()]}, "openai.message_missing_key"),
    ("openai-sft", "sft", {"messages": [{**u(), "lang": "en"}, a()]},
     "openai.message_unrecognized_key"),
    ("openai-sft", "sft", {"messages": [u(""), a()]}, "openai.missing_content"),
    ("openai-sft", "sft", {"messages": [{**u(), "weight": 0}, a()]}, "openai.weight_role"),
    ("openai-sft", "sft", {"messages": [u(), a(weight=0.5)]}, "openai.weight_value"),
    ("openai-sft", "sft", {"messages": [u(), a(weight=True)]}, "openai.weight_value"),
    ("openai-sft", "sft", {"messages": [u(), a(weight=0)]}, "openai.nothing_trained"),
    ("openai-dpo", "preference", {"input": {"messages": [u()]}, "preferred_completion": [a()],
                                  "non_preferred_completion": [a("Lyon?")]},
     "openai-dpo.missing-key"),
    ("openai-dpo", "preference", dpo(input={"messages": [u(), a()]}), "openai-dpo.input-last-role"),
    ("openai-dpo", "preference", dpo(preferred_output=[a(), a()]), "openai-dpo.output-count"),
    ("openai-dpo", "preference", dpo(preferred_output=[u()]), "openai-dpo.output-role"),
    ("openai-dpo", "preference", dpo(non_preferred_output=[a()]), "openai-dpo.same-outputs"),
    ("openai-dpo", "preference", dpo(non_preferred_output=[a(" ")]), "openai-dpo.empty"),
    ("trl-sft", "sft", {"prompt": [u()], "completion": [a()], "label": True}, "trl-sft.keys"),
    ("trl-sft", "sft", {"prompt": "Capital?", "completion": "Paris."},
     "trl-sft.not-conversational"),
    ("trl-sft", "sft", {"prompt": [{"role": "system", "content": "x"}], "completion": [a()]},
     "trl-sft.prompt-last-role"),
    ("trl-sft", "sft", {"prompt": [u()], "completion": [a(weight=1)]}, "trl-sft.message-keys"),
    ("trl-sft", "sft", {"prompt": [u()], "completion": [u()]}, "trl-sft.role"),
    ("trl-dpo", "preference", {"prompt": [u()], "chosen": [a()], "rejected": [a()]},
     "trl-dpo.same-outputs"),
    ("vertex-gemini", "sft", {"contents": [turn("user"), turn("assistant")]}, "vertex.role"),
    ("vertex-gemini", "sft", {"contents": [turn("user"), turn("user"), turn("model")]},
     "vertex.alternation"),
    ("vertex-gemini", "sft", {"contents": [turn("user"), turn("model"), turn("user")]},
     "vertex.last-role"),
    ("vertex-gemini", "sft", {"contents": [turn("model")]}, "vertex.first-role"),
    ("vertex-gemini", "sft", {"messages": [u(), a()]}, "vertex.missing-key"),
    ("vertex-gemini", "sft", {"contents": [turn("user"), {"role": "model", "parts": []}]},
     "vertex.parts"),
    ("bedrock-claude", "sft", {"messages": [u()]}, "bedrock.too-few"),
    ("bedrock-claude", "sft", {"messages": [a(), u(), a()]}, "bedrock.first-role"),
    ("bedrock-claude", "sft", {"messages": [u(), a(), a()]}, "bedrock.alternation"),
    ("bedrock-claude", "sft", {"messages": [u(), a(), u()]}, "bedrock.last-role"),
    ("bedrock-claude", "sft", {"messages": [{"role": "system", "content": "x"}, u(), a()]},
     "bedrock.role"),
    ("bedrock-claude", "sft", {"messages": [u(), a(weight=1)]}, "bedrock.message-keys"),
    ("bedrock-claude", "sft", {"messages": [u(), a()], "model": "haiku"}, "bedrock.extra-key"),
    ("bedrock-claude", "sft", {"messages": [u(), {"role": "assistant", "content": [
        {"type": "text", "text": "Paris."}]}]}, "bedrock.content-type"),
    ("together", "sft", {"messages": [u(), a()], "text": "x"}, "together.extra-key"),
    ("together", "sft", {"messages": [a(), u(), a()]}, "together.first-role"),
    ("together", "sft", {"messages": [u(), a(weight=2)]}, "together.weight"),
    ("together", "preference", dpo(preferred_output=[a(), a("b")]), "together.output-count"),
    ("fireworks", "sft", {"messages": [u(), a(weight=0)]}, "fireworks.message-key"),
    ("fireworks", "sft", {"messages": [u(), {"role": "tool", "content": "x"}]}, "fireworks.role"),
    ("mistral", "sft", {"messages": [u(), a(), u()]}, "mistral.last-role"),
    ("sharegpt", "sft", {"conversations": [{"from": "gpt", "value": "x"}]}, "sharegpt.position"),
    ("sharegpt", "sft", {"conversations": [{"from": "human", "value": "x"}]},
     "sharegpt.last-turn"),
    ("sharegpt", "preference", {"conversations": [{"from": "human", "value": "q"}],
                                "chosen": {"from": "human", "value": "a"},
                                "rejected": {"from": "gpt", "value": "b"}}, "sharegpt.reply"),
    ("alpaca", "sft", {"instruction": "x", "input": ""}, "alpaca.missing-key"),
    ("alpaca", "sft", {"instruction": "x", "input": "", "output": "y", "history": ["q"]},
     "alpaca.history"),
    ("alpaca", "sft", {"instruction": "", "input": "", "output": "y"}, "alpaca.empty"),
]


@pytest.mark.parametrize("name,kind,record,rule", BROKEN, ids=[c[3] for c in BROKEN])
def test_a_broken_record_names_the_broken_rule(name, kind, record, rule):
    problems = list(get_format(name).check(record, kind))
    assert rule in {p.rule for p in problems}, [p.text() for p in problems]
    assert all(p.severity == "error" and p.message and p.fix for p in problems)


# The reference's own example lines (reference/export-formats.md, §2-§8), which must pass.
PUBLISHED = [
    ("openai-sft", "sft", '{"messages": [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris.", "weight": 0}, {"role": "user", "content": "Capital of Japan?"}, {"role": "assistant", "content": "Tokyo.", "weight": 1}]}'),  # noqa: E501
    ("openai-sft", "sft", '{"messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "{\\"temp_c\\": 18}"}, {"role": "assistant", "content": "18 °C in Paris."}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "parallel_tool_calls": false}'),  # noqa: E501
    ("openai-dpo", "preference", '{"input": {"messages": [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"}], "tools": [], "parallel_tool_calls": true}, "preferred_output": [{"role": "assistant", "content": "Paris."}], "non_preferred_output": [{"role": "assistant", "content": "It is probably Lyon, but I am not sure."}]}'),  # noqa: E501
    ("bedrock-claude", "sft", '{"system": "You are a terse assistant.", "messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}'),  # noqa: E501
    ("vertex-gemini", "sft", '{"systemInstruction": {"role": "system", "parts": [{"text": "You are a terse assistant."}]}, "contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}, {"role": "model", "parts": [{"text": "Paris."}]}]}'),  # noqa: E501
    ("mistral", "sft", '{"messages": [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}'),  # noqa: E501
    ("trl-sft", "sft", '{"prompt": [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"}], "completion": [{"role": "assistant", "content": "Paris."}]}'),  # noqa: E501
    ("trl-dpo", "preference", '{"prompt": [{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"}], "chosen": [{"role": "assistant", "content": "Paris."}], "rejected": [{"role": "assistant", "content": "It is probably Lyon, but I am not sure."}]}'),  # noqa: E501
    ("sharegpt", "preference", '{"conversations": [{"from": "human", "value": "Capital of France?"}], "system": "You are a terse assistant.", "chosen": {"from": "gpt", "value": "Paris."}, "rejected": {"from": "gpt", "value": "It is probably Lyon, but I am not sure."}}'),  # noqa: E501
]


@pytest.mark.parametrize("name,kind,line", PUBLISHED, ids=[f"{c[0]}-{i}" for i, c in enumerate(PUBLISHED)])
def test_the_published_examples_pass(name, kind, line):
    assert list(get_format(name).check(json.loads(line), kind)) == []


def test_check_file_names_the_line_of_each_problem(tmp_path):
    path = tmp_path / "train.jsonl"
    good = json.dumps({"messages": [u(), a()]})
    path.write_bytes("\n".join([good, "{not json", "", good.replace('"Paris."', '""')]).encode()
                     + b"\n\xff\xfe\n")
    report = check_file(path, "openai-sft")
    located = {(p.rule, p.line) for p in report.problems()}
    assert located == {("file.json", 2), ("file.blank-line", 3), ("openai.missing_content", 4),
                       ("file.utf8", 5)}
    text = report.text()
    assert "train.jsonl line 2" in text and "not JSON" in text


def test_check_file_reads_an_alpaca_array_by_line(tmp_path):
    path = tmp_path / "train.json"
    path.write_text('[\n{"instruction": "a", "input": "", "output": "b"},\n'
                    '{"instruction": "a", "input": ""}\n]\n')
    [problem] = check_file(path, "alpaca").problems()
    assert (problem.rule, problem.line) == ("alpaca.missing-key", 3)
    path.write_text('{"instruction": "a"}')
    assert check_file(path, "alpaca").problems()[0].rule == "file.array"
