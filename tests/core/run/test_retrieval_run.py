"""Retrieval in a run: documents indexed, passages put into the prompt with citation ids, the
chunks each call was given logged with their scores, and changed files re-indexed in place."""

from __future__ import annotations

import pytest

from lab.core.experiment.file import loads
from lab.core.workspace.store import open_workspace
from tests.helpers.experiments import experiment_text, run_experiment
from tests.helpers.fake_provider import FakeProviderServer

POLICY = """# Returns

Items can be returned within 30 days of delivery, unused and in their packaging.

## Damaged items

Send a photo of a damaged item within 7 days and we replace it free of charge.
"""
SHIPPING = """# Shipping

Orders ship within 2 business days. Express delivery costs 9 euros.
"""


def write_docs(tmp_path):
    """A folder with the two policy documents."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text(POLICY)
    (docs / "shipping.md").write_text(SHIPPING)
    return docs


def retrieval_experiment(server: FakeProviderServer, folder) -> str:
    text = experiment_text(server, cases=2)
    text = text.replace('user = "{{question}}"', 'user = "Context:\\n{{context}}\\n\\nQuestion: {{question}}"')
    text = text.replace(
        'rows = [\n  { question = "Question 0: where is my order?" },\n'
        '  { question = "Question 1: where is my order?" }\n]',
        'rows = [{ question = "My kettle arrived damaged, what now?" },'
        ' { question = "How much does express delivery cost?" }]')
    at = text.index('name = "B"')
    text = text[:at] + 'retrieval = { mode = "lexical", k = 1 }\n' + text[at:]
    return text + f'\n[[documents]]\npath = "{folder}"\nchunk_size = 60\nchunk_overlap = 10\n'


def test_a_variant_with_retrieval_gets_the_best_passage_and_it_is_logged(server, tmp_path):
    docs = write_docs(tmp_path)
    db = tmp_path / "w.db"
    text = retrieval_experiment(server, docs)
    assert loads(text).project.variants[1].retrieval.k == 1
    finished = run_experiment(text, db)
    assert (finished.status, finished.errors) == ("done", 0)

    sent = {(r.body["messages"][-1]["content"], r.body["messages"][0]["content"])
            for r in server.chat_requests()}
    users = [u for u, _ in sent]
    damaged = next(u for u in users if "kettle" in u and "[policy.md#2]" in u)
    assert "Send a photo of a damaged item" in damaged and "Returns > Damaged items" in damaged
    express = next(u for u in users if "express" in u and "[" in u)
    assert "[shipping.md#1]" in express and "9 euros" in express
    assert sum(u.startswith("Context:\n\n\nQuestion") for u in users) == 2  # A: no passages

    with open_workspace(db) as store:
        b_calls = [c for c in store.calls_for_run(finished.run_id) if c["variant_name"] == "B"]
        given = {c["case_index"]: store.chunks_for_call(c["id"]) for c in b_calls}
    assert [g["citation"] for g in given[0]] == ["policy.md#2"]
    assert given[0][0]["rank"] == 1 and given[0][0]["method"] == "lexical"
    assert given[0][0]["score"] > 0 and "damaged" in given[0][0]["text"]


def test_rerun_is_cached_and_a_changed_file_updates_only_its_chunks(server, tmp_path):
    docs = write_docs(tmp_path)
    db = tmp_path / "w.db"
    text = retrieval_experiment(server, docs)
    run_experiment(text, db)
    with open_workspace(db) as store:
        before = {(c["document"], c["position"]): c["chunk_id"] for c in _all_chunks(store)}
    second = run_experiment(text, db)
    assert second.cached == 4  # same passages, same requests: answered from the log

    (docs / "shipping.md").write_text(SHIPPING.replace("9 euros", "12 euros"))
    third = run_experiment(text, db)
    assert third.cached == 3  # only the call whose passage changed is sent again
    with open_workspace(db) as store:
        after = {(c["document"], c["position"]): c["chunk_id"] for c in _all_chunks(store)}
    assert after[("policy.md", 1)] == before[("policy.md", 1)]  # untouched chunks kept their ids
    assert after[("shipping.md", 1)] != before[("shipping.md", 1)]


def _all_chunks(store):
    return list(store.db.query(
        "SELECT c.id AS chunk_id, d.name AS document, c.position FROM chunks c"
        " JOIN documents d ON d.id = c.document_id"))


def test_retrieval_without_documents_or_without_context_is_refused_before_sending(server, tmp_path):
    from lab.core.run.plan import PlanError

    text = retrieval_experiment(server, tmp_path)
    no_docs = text.split("\n[[documents]]")[0]
    with pytest.raises(PlanError, match="has no documents"):
        run_experiment(no_docs, tmp_path / "a.db")
    no_slot = text.replace("Context:\\n{{context}}\\n\\n", "")
    with pytest.raises(PlanError, match=r"none of its prompts says where they go: add \{\{context\}\}"):
        run_experiment(no_slot, tmp_path / "b.db")
    assert server.chat_requests() == []


@pytest.mark.parametrize("mode", ["embeddings", "hybrid"])
def test_embeddings_and_hybrid_find_the_passage_and_embed_each_text_once(server, tmp_path, mode):
    docs = write_docs(tmp_path)
    db = tmp_path / "w.db"
    text = retrieval_experiment(server, docs).replace(
        'retrieval = { mode = "lexical", k = 1 }',
        f'retrieval = {{ mode = "{mode}", k = 1, embedding_model = "fake/text-embedding-3-small" }}')
    finished = run_experiment(text, db)
    assert (finished.status, finished.errors) == ("done", 0)
    express = next(r.body["messages"][-1]["content"] for r in server.chat_requests()
                   if "express" in r.body["messages"][-1]["content"]
                   and "[" in r.body["messages"][-1]["content"])
    assert "[shipping.md#1]" in express
    embedded = server.embedding_requests()
    assert len(embedded) == 2  # the chunks in one batch, the two queries in another
    assert server.validation_failures == [] and server.wire_errors == []
    with open_workspace(db) as store:
        b_call = next(c for c in store.calls_for_run(finished.run_id)
                      if c["variant_name"] == "B" and c["case_index"] == 1)
        (given,) = store.chunks_for_call(b_call["id"])
        logged = list(store.db.query("SELECT * FROM calls WHERE variant_name LIKE 'embeddings: %'"))
    assert given["method"] == mode and given["citation"] == "shipping.md#1"
    assert len(logged) == 2 and all(c["status"] == "ok" and c["input_tokens"] > 0 for c in logged)
    again = run_experiment(text, db)
    assert again.cached == 4 and len(server.embedding_requests()) == 2  # nothing embedded twice


def test_citation_and_retrieval_hit_checks_measure_grounding_and_retrieval(server, tmp_path):
    from tests.helpers.fake_provider import reply

    docs = write_docs(tmp_path)
    db = tmp_path / "w.db"
    text = retrieval_experiment(server, docs).replace(
        'rows = [{ question = "My kettle arrived damaged, what now?" },'
        ' { question = "How much does express delivery cost?" }]',
        'rows = [{ question = "My kettle arrived damaged, what now?", expected_source = "policy.md" },'
        ' { question = "How much does express delivery cost?", expected_source = "faq.md" }]')
    text += ('\n[[checks]]\ntype = "citations"\nname = "cites only what it was given"\n'
             '\n[[checks]]\ntype = "retrieval-hit"\nname = "found the source"\n')
    # One call at a time, in plan order (A then B per case): on the damaged-kettle case A
    # invents a citation and B cites the passage it was given.
    server.script(reply("See [made-up.md#9]."), reply("Per [policy.md#2], send a photo."),
                  reply("No sources."), reply("No sources."))
    finished = run_experiment(text.replace("concurrency = 4", "concurrency = 1"), db)
    assert finished.status == "done"
    with open_workspace(db) as store:
        results = {(c["variant_name"], c["case_index"]): {r["check_name"]: r
                                                          for r in c["check_results"]}
                   for c in store.calls_for_run(finished.run_id)}
    assert "found the source" not in results[("A", 0)]  # A does not retrieve: not its measure
    a_cites = results[("A", 0)]["cites only what it was given"]
    assert not a_cites["passed"] and "[made-up.md#9]" in a_cites["reason"]
    assert results[("B", 0)]["cites only what it was given"]["passed"]
    hit = results[("B", 0)]["found the source"]
    assert hit["passed"] and hit["score"] == 1.0
    miss = results[("B", 1)]["found the source"]
    assert not miss["passed"] and miss["score"] == 0.0 and "faq.md was not retrieved" in miss["reason"]


def test_the_summary_counts_retrieval_hits_apart_from_the_answer(server, tmp_path):
    from lab.core.run.report import run_report

    docs = write_docs(tmp_path)
    text = retrieval_experiment(server, docs).replace(
        'rows = [{ question = "My kettle arrived damaged, what now?" },'
        ' { question = "How much does express delivery cost?" }]',
        'rows = [{ question = "My kettle arrived damaged, what now?", expected_source = "faq.md" },'
        ' { question = "How much does express delivery cost?", expected_source = "faq.md" }]')
    text += '\n[[checks]]\ntype = "retrieval-hit"\nname = "found the source"\n'
    from tests.helpers.fake_provider import reply

    server.default = reply("Your order is on its way.")  # every answer passes "mentions order"
    finished = run_experiment(text, tmp_path / "w.db")
    with open_workspace(tmp_path / "w.db") as store:
        report = run_report(store, finished.run_id)
    b = next(v for v in report.variants if v.variant == "B")
    assert b.checks["found the source"].rate == 0.0  # retrieval missed every time
    assert b.overall.rate == 1.0  # but every answer passed its answer checks


def test_the_policy_sample_retrieves_the_document_each_case_names(server, tmp_path):
    """The sample project a new user finds beside the support one: B's passages hold the
    answer to every case, found by the lexical search alone (no key needed to index)."""
    from lab.core.runtime.resources import resource_path

    sample = resource_path("sample/policy-answers.toml")
    text = sample.read_text(encoding="utf-8").replace(
        'path = "policies/"', f'path = "{sample.parent / "policies"}"').replace(
        '"openai/gpt-4o-mini"', '"fake/gpt-4o-mini"')
    text += (f'\n[providers.fake]\nkind = "openai"\nbase_url = "{server.base_url("openai")}"\n'
             'api_key_env = "LAB_TEST_KEY"\nlocal = false\n')
    finished = run_experiment(text, tmp_path / "w.db")
    assert (finished.status, finished.errors) == ("done", 0)
    with open_workspace(tmp_path / "w.db") as store:
        calls = store.calls_for_run(finished.run_id)
        calls.sort(key=lambda c: c["case_index"])
        b = [c for c in calls if c["variant_name"] == "B · A + policies"]
        a = [c for c in calls if c["variant_name"] == "A · from memory"]
        given = store.chunks_for_call(b[0]["id"])
    assert len(b) == len(a) == 12
    assert all(c["checks"]["found the right document"] for c in b)
    assert all("found the right document" not in c["checks"] for c in a)  # A does not retrieve
    assert all(c["checks"]["citations are real"] for c in calls)
    assert [g["citation"] for g in given][0] == "refunds.md#2"
    assert "60 days" in given[0]["text"]
    systems = [r.body["messages"][0]["content"] for r in server.chat_requests()]
    assert sum("[refunds.md#2]" in s for s in systems) >= 1


def test_a_project_opened_from_a_file_finds_its_documents_beside_the_file(server, tmp_path):
    """The window plans a run from the project, not the file: relative document paths are
    still read from the experiment file's folder, wherever the app was started."""
    from lab.core.providers.pricing import PriceTable
    from lab.core.run.plan import build_plan, provider_configs
    from lab.core.run.setup import RunOptions, prepare_run
    from lab.core.workspace.providers import configured_providers

    write_docs(tmp_path)
    spec = loads(retrieval_experiment(server, "docs"))  # as the window has it: no source
    spec.project.source_path = str(tmp_path / "exp.toml")
    with open_workspace(tmp_path / "w.db") as store:
        project_id = store.save_project(spec.project)
        plan = build_plan(spec, provider_configs(spec, configured_providers(store)))
        prepared = prepare_run(store, plan, RunOptions(), PriceTable.load(), source="gui",
                               project_id=project_id)
    given = [c.retrieved for c in prepared.plan.calls if c.variant.name == "B"]
    assert [[g.citation for g in chunks] for chunks in given] == [["policy.md#2"],
                                                                  ["shipping.md#1"]]
