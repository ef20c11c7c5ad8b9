"""Importing test cases from CSV, TSV (a spreadsheet paste) and JSONL, with per-row problems."""

from __future__ import annotations

import pytest
from lab.core.experiment.cases import CasesFileError, load, parse_csv, parse_jsonl


def test_csv_columns_become_variables_and_label_names_the_case():
    result = parse_csv('label,question,tone\nlate,"Where is it, then?",angry\n\nrefund,Money?,calm\n')
    assert result.ok
    assert [(c.label, c.vars) for c in result.cases] == [
        ("late", {"question": "Where is it, then?", "tone": "angry"}),
        ("refund", {"question": "Money?", "tone": "calm"}),
    ]


def test_spreadsheet_paste_is_tab_separated():
    result = parse_csv("question\ttone\nWhere, exactly?\tcurious\n")
    assert result.cases[0].vars == {"question": "Where, exactly?", "tone": "curious"}


def test_every_bad_row_is_reported_and_good_rows_kept():
    result = parse_csv("a,b\n1,2\n3\n4,5\n6,7,8\n", source="cases.csv")
    assert [c.vars["a"] for c in result.cases] == ["1", "4"]
    assert result.messages() == [
        "cases.csv, line 3: has 1 cells but the header has 2 columns; check for an unquoted "
        "comma or a missing cell",
        "cases.csv, line 5: has 3 cells but the header has 2 columns; check for an unquoted "
        "comma or a missing cell",
    ]


def test_header_problems():
    assert "duplicate column" in parse_csv("a,a\n1,2\n").messages()[0]
    assert "has no name" in parse_csv("a,,c\n1,2,3\n").messages()[0]
    assert "empty" in parse_csv("").messages()[0]


def test_jsonl_rows_with_nested_values_and_errors():
    text = '{"q": "hi", "meta": {"lang": "en"}}\n\nnot json\n[1, 2]\n{"q": "bye"}\n'
    result = parse_jsonl(text, source="cases.jsonl")
    assert [c.vars for c in result.cases] == [
        {"q": "hi", "meta": '{"lang": "en"}'}, {"q": "bye"}
    ]
    assert [p.line for p in result.problems] == [3, 4]
    assert result.messages()[0].startswith("cases.jsonl, line 3: is not valid JSON")


def test_files_by_extension(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"q": "a"}\n')
    (tmp_path / "c.tsv").write_text("q\tr\nx\ty\n")
    assert load(tmp_path / "c.jsonl").cases[0].vars == {"q": "a"}
    assert load(tmp_path / "c.tsv").cases[0].vars == {"q": "x", "r": "y"}
    with pytest.raises(CasesFileError, match="must be a .csv, .tsv or .jsonl"):
        load(tmp_path / "c.xlsx")
    (tmp_path / "latin.csv").write_bytes("q\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(CasesFileError, match="not UTF-8"):
        load(tmp_path / "latin.csv")


def test_paste_with_and_without_a_header():
    from lab.core.experiment.cases import parse_paste

    with_header = parse_paste("message\tcustomer\nHello\tAna\n", ["customer", "message"])
    assert [c.vars for c in with_header.cases] == [{"message": "Hello", "customer": "Ana"}]
    data_only = parse_paste("Ana\tHello\nBen\tHi there\n", ["customer", "message"])
    assert [c.vars for c in data_only.cases] == [
        {"customer": "Ana", "message": "Hello"}, {"customer": "Ben", "message": "Hi there"}]
    empty_table = parse_paste("q,a\n1,2\n", [])
    assert empty_table.cases[0].vars == {"q": "1", "a": "2"}
    wrong = parse_paste("just one cell\n", ["customer", "message"])
    assert wrong.messages() == [
        "pasted text, line 1: has 1 cells but the table has 2 variables (customer, message); "
        "copy the header row too, so each cell finds its column"]
