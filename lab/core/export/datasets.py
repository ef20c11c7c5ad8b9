"""The dataset half of the store: saved selections, hand picks, and the outputs they select.

Beside the workspace package, this is the one module that knows table names; callers get `Dataset`, `Selection`, `SelectedCall` and `PreferencePair` back. Functions
take an open `Store` (they read through `store.db`), so the export code can run on any thread
that owns a store.

A selection is evaluated on every read: outputs rated, tagged or compared after a dataset was
saved count the next time it is used. Only successful calls are selected, and never an LLM
judge's own calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lab.core.export.conversation import Interner, conversation_of
from lab.core.export.pairs import pairs_from_ratings, pairs_from_votes, tally
from lab.core.export.selection import (
    NO_CHECKS,
    PreferencePair,
    SelectedCall,
    Selection,
    SkippedCall,
)
from lab.core.model import Dataset, Example, PromptVersion
from lab.core.workspace.errors import WorkspaceError
from lab.core.workspace.history import fts_query
from lab.core.workspace.rows import now_iso

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



def _ids(values: Iterable[int]) -> str:
    # Lists of ids travel as one JSON parameter (json_each), so 100,000 picks never hit
    # SQLite's limit on bound parameters.
    return json.dumps([int(v) for v in values])


# ----------------------------------------------------------------------------- saved datasets

def save_dataset(store: Store, dataset: Dataset) -> int:
    """Create or update a dataset by name; hand picks go to dataset_picks, the rules to JSON."""
    selection = Selection.from_dict(dataset.selection)
    picks = [(c, 1) for c in selection.include_calls] + [(c, 0) for c in selection.exclude_calls]
    rules = selection.to_dict()
    rules.pop("include_calls", None)
    rules.pop("exclude_calls", None)
    stamp = now_iso()
    with store.transaction():
        row = store.db.execute("SELECT id FROM datasets WHERE name = ?", [dataset.name]).fetchone()
        values = {"name": dataset.name, "description": dataset.description,
                  "licence": dataset.licence, "selection_json": json.dumps(rules, sort_keys=True),
                  "updated_at": stamp}
        if row:
            dataset.id = row[0]
            store.db["datasets"].update(dataset.id, values)
        else:
            dataset.id = store.db["datasets"].insert({**values, "created_at": stamp}).last_pk
        store.db.execute("DELETE FROM dataset_picks WHERE dataset_id = ?", [dataset.id])
        store.db.conn.executemany(
            "INSERT OR REPLACE INTO dataset_picks (dataset_id, call_id, included) VALUES (?, ?, ?)",
            [(dataset.id, call_id, included) for call_id, included in picks],
        )
    return dataset.id


def load_dataset(store: Store, name_or_id: str | int) -> Dataset:
    """A saved dataset with its hand picks folded back into `selection`."""
    column = "id" if isinstance(name_or_id, int) else "name"
    row = store.db.execute(
        f"SELECT id, name, description, licence, selection_json FROM datasets WHERE {column} = ?",
        [name_or_id],
    ).fetchone()
    if row is None:
        known = ", ".join(d.name for d in list_datasets(store)) or "none saved yet"
        raise WorkspaceError(f"No dataset {name_or_id!r} in {store.path}. Datasets: {known}.")
    selection = json.loads(row[4] or "{}")
    picks = store.db.execute(
        "SELECT call_id, included FROM dataset_picks WHERE dataset_id = ? ORDER BY call_id",
        [row[0]],
    ).fetchall()
    if picks:
        selection["include_calls"] = [c for c, inc in picks if inc]
        selection["exclude_calls"] = [c for c, inc in picks if not inc]
    return Dataset(id=row[0], name=row[1], description=row[2], licence=row[3], selection=selection)


def list_datasets(store: Store) -> list[Dataset]:
    return [load_dataset(store, r[0])
            for r in store.db.execute("SELECT id FROM datasets ORDER BY name").fetchall()]


def delete_dataset(store: Store, name_or_id: str | int) -> None:
    dataset = load_dataset(store, name_or_id)
    with store.transaction():
        store.db.execute("DELETE FROM datasets WHERE id = ?", [dataset.id])


def set_pick(store: Store, dataset_id: int, call_id: int, included: bool | None) -> None:
    """Pick an output into a dataset by hand (True), exclude it (False), or undo either (None)."""
    with store.transaction():
        if included is None:
            store.db.execute("DELETE FROM dataset_picks WHERE dataset_id = ? AND call_id = ?",
                             [dataset_id, call_id])
        else:
            store.db.execute(
                "INSERT OR REPLACE INTO dataset_picks (dataset_id, call_id, included)"
                " VALUES (?, ?, ?)", [dataset_id, call_id, int(included)])


# ----------------------------------------------------------------------------- selecting

def _rules_sql(s: Selection) -> tuple[str, list[Any]]:
    """The WHERE clause of the selection's rules (not the hand picks)."""
    where: list[str] = []
    params: list[Any] = []
    if s.min_score is not None:
        where.append("r.score >= ?")
        params.append(int(s.min_score))
    if s.thumbs_up:
        where.append("r.thumbs = 1")
    if s.tags:
        tags = list(dict.fromkeys(t.lower() for t in s.tags))
        where.append("(SELECT count(DISTINCT lower(t.name)) FROM call_tags ct JOIN tags t"
                     " ON t.id = ct.tag_id WHERE ct.call_id = c.id"
                     " AND lower(t.name) IN (SELECT value FROM json_each(?))) = ?")
        params += [json.dumps(tags), len(tags)]
    if s.exclude_tags:
        where.append("NOT EXISTS (SELECT 1 FROM call_tags ct JOIN tags t ON t.id = ct.tag_id"
                     " WHERE ct.call_id = c.id"
                     " AND lower(t.name) IN (SELECT value FROM json_each(?)))")
        params.append(json.dumps([t.lower() for t in s.exclude_tags]))
    if s.checks_passed:
        where.append("EXISTS (SELECT 1 FROM check_results k WHERE k.call_id = c.id)"
                     " AND NOT EXISTS (SELECT 1 FROM check_results k"
                     " WHERE k.call_id = c.id AND k.passed = 0)")
    for name in s.checks:
        where.append("EXISTS (SELECT 1 FROM check_results k WHERE k.call_id = c.id"
                     " AND k.check_name = ? AND k.passed = 1) AND NOT EXISTS (SELECT 1 FROM"
                     " check_results k WHERE k.call_id = c.id AND k.check_name = ?"
                     " AND k.passed = 0)")
        params += [name, name]
    for column, values in (("e.name", s.experiments), ("c.run_id", s.runs),
                           ("c.variant_name", s.variants)):
        if values:
            where.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(values)))
    if s.models:
        where.append("(c.model IN (SELECT value FROM json_each(?))"
                     " OR c.provider || '/' || c.model IN (SELECT value FROM json_each(?)))")
        params += [json.dumps(s.models)] * 2
    if s.search.strip():
        where.append("c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)")
        params.append(fts_query(s.search))
    return " AND ".join(where) or "1", params


_COLUMNS = (
    "c.id, c.prompt_version_id, c.case_vars_json, c.request_json, c.response_text,"
    " c.variant_name, c.provider, c.model, c.run_id, e.name AS experiment, r.thumbs, r.score"
)


def _selected_rows(store: Store, s: Selection) -> Iterable[tuple[Any, ...]]:
    """The selected calls' `_COLUMNS`, as plain rows (a dict per row costs more than its use).

    With `s.step`, the rules pick chains (their final outputs, as everywhere else) and each row
    is that chain's call of the step instead, with the chain's rating."""
    rules, params = ("0", []) if s.hand_picked_only else _rules_sql(s)
    columns, step_join, step_params = _COLUMNS, "", []
    if s.step:
        columns = _COLUMNS.replace("c.prompt_version_id, c.case_vars_json, c.request_json,"
                                   " c.response_text", "x.prompt_version_id, x.case_vars_json,"
                                   " x.request_json, x.response_text").replace("c.id,", "x.id,", 1)
        step_join = " JOIN calls x ON x.chain_call_id = c.id AND x.step = ? AND x.status = 'ok'"
        step_params = [s.step]
    sql = (
        f"SELECT {columns} FROM calls c{step_join} LEFT JOIN ratings r ON r.call_id = c.id"
        " LEFT JOIN experiments e ON e.id = c.experiment_id"
        " WHERE c.status = 'ok' AND c.judged_call_id IS NULL AND c.chain_call_id IS NULL"
        f" AND (({rules}) OR c.id IN (SELECT value FROM json_each(?)))"
        " AND c.id NOT IN (SELECT value FROM json_each(?)) ORDER BY c.id"
    )
    return store.db.execute(sql, [*step_params, *params, _ids(s.include_calls),
                                  _ids(s.exclude_calls)])


def chain_steps(store: Store) -> list[str]:
    """The names of the chain steps logged in the workspace, for a step to export."""
    return [row[0] for row in store.db.execute(
        "SELECT DISTINCT step FROM calls WHERE chain_call_id IS NOT NULL AND step IS NOT NULL"
        " ORDER BY step")]


def _labels(store: Store, call_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, dict]]:
    """Tags and check results of the given calls, in two queries whatever their number."""
    tags: dict[int, list[str]] = {}
    checks: dict[int, dict[str, bool]] = {}
    ids = _ids(call_ids)
    for call_id, name in store.db.execute(
        "SELECT ct.call_id, t.name FROM call_tags ct JOIN tags t ON t.id = ct.tag_id"
        " WHERE ct.call_id IN (SELECT value FROM json_each(?)) ORDER BY t.name", [ids]
    ):
        tags.setdefault(call_id, []).append(name)
    for call_id, name, passed in store.db.execute(
        "SELECT call_id, check_name, passed FROM check_results"
        " WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY id", [ids]
    ):
        checks.setdefault(call_id, {})[name] = bool(passed)
    return tags, checks


def select_calls(
    store: Store, selection: Selection, skipped: list[SkippedCall] | None = None
) -> list[SelectedCall]:
    """Every successful output the selection holds right now, oldest first.

    Outputs whose conversation cannot be read or rebuilt are left out and, when `skipped` is
    given, listed there with the reason, so an export can report them.
    """
    versions: dict[int, tuple[PromptVersion, tuple[Example, ...]]] = {}
    share = Interner()
    found: list[SelectedCall] = []
    for (call_id, version_id, case_vars_json, request_json, output, variant, provider, model,
         run_id, experiment, thumbs, score) in _selected_rows(store, selection):
        if version_id is not None and version_id not in versions:
            loaded = store.load_prompt_version(version_id)
            versions[version_id] = (loaded, tuple(loaded.examples))
        version, examples = versions.get(version_id, (None, ()))
        turns, source = conversation_of(json.loads(request_json or "{}"), version, case_vars_json)
        if turns is None:
            if skipped is not None:
                skipped.append(SkippedCall(call_id, f"Output left out: {source}."))
            continue
        # In field order, not by keyword: this runs once per output, and matching sixteen
        # keywords costs more than the rest of the call. Names repeat on every row: one shared
        # copy of each.
        found.append(SelectedCall(
            call_id, share.context(turns[:-1]), turns[-1][1], output, source, version_id,
            version.system if version else "", examples, case_vars_json, share(variant),
            share(provider), share(model), share(experiment), run_id, thumbs, score, (),
            NO_CHECKS,
        ))
    ids = [c.call_id for c in found]
    chain_of: dict[int, int] = {}
    if selection.step:  # a step's labels are its chain's: the output the user judged
        chain_of = dict(store.db.execute(
            "SELECT id, chain_call_id FROM calls WHERE id IN (SELECT value FROM json_each(?))",
            [_ids(ids)]))
        ids = list(chain_of.values())
    tags, checks = _labels(store, ids)
    if chain_of:
        step_of = {chain: step for step, chain in chain_of.items()}
        tags = {step_of[k]: v for k, v in tags.items()}
        checks = {step_of[k]: v for k, v in checks.items()}
    if tags or checks:  # usually a few outputs carry labels: visit those alone
        by_id = {c.call_id: c for c in found}
        for call_id, names in tags.items():
            by_id[call_id].tags = tuple(names)
        for call_id, results in checks.items():
            by_id[call_id].checks = results
    return found


def preference_pairs(
    store: Store, selection: Selection, from_ratings: bool = False,
    skipped: list[SkippedCall] | None = None,
) -> list[PreferencePair]:
    """Chosen/rejected pairs whose chosen output the selection holds (see export.pairs).

    From blind pairwise judgements (ties left out), and with `from_ratings` also from outputs
    for the same input and prompt version that were rated differently.
    """
    pool = select_calls(store, selection, skipped)
    calls = {c.call_id: c for c in pool}
    excluded = _ids(selection.exclude_calls)
    judgements = store.db.execute(
        "SELECT p.left_call_id, p.right_call_id, p.winner FROM pairwise_judgements p"
        " JOIN calls l ON l.id = p.left_call_id JOIN calls r ON r.id = p.right_call_id"
        " WHERE l.status = 'ok' AND r.status = 'ok'"
        " AND p.left_call_id NOT IN (SELECT value FROM json_each(?))"
        " AND p.right_call_id NOT IN (SELECT value FROM json_each(?)) ORDER BY p.id",
        [excluded, excluded],
    ).fetchall()
    votes, _ties = tally(judgements)
    # The losers are usually outside a "good outputs" selection: fetch them by id.
    wanted = {i for pair in votes for i in pair if i not in calls}
    if from_ratings:
        versions = sorted({c.prompt_version_id for c in pool if c.prompt_version_id is not None})
        wanted |= {row[0] for row in store.db.execute(
            "SELECT c.id FROM calls c JOIN ratings r ON r.call_id = c.id WHERE c.status = 'ok'"
            " AND c.judged_call_id IS NULL AND c.chain_call_id IS NULL"
            " AND (r.score IS NOT NULL OR r.thumbs IS NOT NULL)"
            " AND c.prompt_version_id IN (SELECT value FROM json_each(?))"
            " AND c.id NOT IN (SELECT value FROM json_each(?))",
            [json.dumps(versions), excluded],
        )} - set(calls)
    if wanted:
        others = Selection(hand_picked_only=True, include_calls=sorted(wanted),
                           exclude_calls=selection.exclude_calls)
        calls.update((c.call_id, c) for c in select_calls(store, others))
    pairs = pairs_from_votes(votes, calls, {c.call_id for c in pool}, skipped)
    if from_ratings:
        seen = {frozenset((p.chosen.call_id, p.rejected.call_id)) for p in pairs}
        rated = [c for c in calls.values() if c.score is not None or c.thumbs is not None]
        pairs += pairs_from_ratings(pool, rated, seen, skipped)
    return pairs
