"""The workspace schema, as an ordered list of named migrations.

Every open applies whatever is pending, in order, each in its own transaction (sqlite-utils'
`Migrations`). A migration only ever adds: new tables, new columns, new indexes. Nothing is
renamed or dropped, so a database written by an older version always opens, and the code
that reads rows never meets a column it doesn't expect. A migration may also correct what an
older version wrote in a way the current code reads differently (m005: 0 tokens that were
never reported become NULL, unknown).

`SCHEMA_VERSION` is the number of migrations and is also written to `PRAGMA user_version`, so a
version of the app can tell at a glance that a database is newer than it understands and refuse it
before touching anything (see store.open_workspace).

Only the workspace package (and export.datasets) knows table names.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("prompt-lab")


@migrations()
def m001_initial(db: Database) -> None:
    """The first schema: everything the brief asks the workspace to hold."""
    db.executescript(
        """
        -- A project is what the workbench edits: variants, a user-message template, cases, checks.
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            user_template TEXT NOT NULL DEFAULT '{{input}}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE variants (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            system TEXT NOT NULL DEFAULT '',
            params_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_variants_project ON variants(project_id, position);

        -- Few-shot examples belong to a variant, so "duplicate B, change one example" works.
        CREATE TABLE examples (
            id INTEGER PRIMARY KEY,
            variant_id INTEGER NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            input TEXT NOT NULL DEFAULT '',
            output TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            enabled INTEGER NOT NULL DEFAULT 1,
            source_call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL
        );
        CREATE INDEX idx_examples_variant ON examples(variant_id, position);

        CREATE TABLE test_cases (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            label TEXT NOT NULL DEFAULT '',
            vars_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_test_cases_project ON test_cases(project_id, position);

        CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL DEFAULT '',
            type TEXT NOT NULL,
            config_json TEXT NOT NULL DEFAULT '{}'
        );

        -- Provider definitions the user configured in the app. Never a key: keys live in the
        -- operating system's keyring or in environment variables.
        CREATE TABLE providers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            config_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- The exact prompt a call used, frozen and de-duplicated by content hash.
        CREATE TABLE prompt_versions (
            id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            variant_id INTEGER REFERENCES variants(id) ON DELETE SET NULL,
            system TEXT NOT NULL DEFAULT '',
            user_template TEXT NOT NULL DEFAULT '',
            examples_json TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        );

        -- An experiment is a frozen description of a matrix (from the GUI or a TOML file);
        -- a run is one execution of it (a resumed run keeps its id).
        CREATE TABLE experiments (
            id INTEGER PRIMARY KEY,
            project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
            name TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            config_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'running',
            samples INTEGER NOT NULL DEFAULT 1,
            settings_json TEXT NOT NULL DEFAULT '{}',
            planned_calls INTEGER NOT NULL DEFAULT 0,
            estimated_cost_usd REAL,
            budget_usd REAL,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );

        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
            variant_id INTEGER REFERENCES variants(id) ON DELETE SET NULL,
            variant_name TEXT,
            prompt_version_id INTEGER REFERENCES prompt_versions(id),
            test_case_id INTEGER REFERENCES test_cases(id) ON DELETE SET NULL,
            case_vars_json TEXT NOT NULL DEFAULT '{}',
            sample_index INTEGER NOT NULL DEFAULT 0,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            params_json TEXT NOT NULL DEFAULT '{}',
            request_json TEXT NOT NULL DEFAULT '{}',
            cache_key TEXT,
            cached_from_call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL,
            status TEXT NOT NULL,
            response_text TEXT NOT NULL DEFAULT '',
            finish_reason TEXT,
            usage_json TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cached_tokens INTEGER,
            reasoning_tokens INTEGER,
            latency_ms REAL,
            ttft_ms REAL,
            cost_usd REAL,
            error_type TEXT,
            error_message TEXT,
            started_at TEXT,
            finished_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_calls_created ON calls(created_at DESC, id DESC);
        CREATE INDEX idx_calls_run ON calls(run_id, variant_name, test_case_id, sample_index);
        CREATE INDEX idx_calls_cache ON calls(cache_key) WHERE cache_key IS NOT NULL;
        CREATE INDEX idx_calls_experiment ON calls(experiment_id);
        CREATE INDEX idx_calls_status ON calls(status);

        CREATE TABLE check_results (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            check_name TEXT NOT NULL,
            passed INTEGER NOT NULL,
            score REAL,
            reason TEXT NOT NULL DEFAULT '',
            judge_call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL
        );
        CREATE INDEX idx_check_results_call ON check_results(call_id);

        CREATE TABLE ratings (
            call_id INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
            thumbs INTEGER CHECK (thumbs IN (-1, 1)),
            score INTEGER CHECK (score BETWEEN 1 AND 5),
            note TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );

        CREATE TABLE tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            kind TEXT NOT NULL DEFAULT 'failure-mode'
        );

        CREATE TABLE call_tags (
            call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
            PRIMARY KEY (call_id, tag_id)
        );
        CREATE INDEX idx_call_tags_tag ON call_tags(tag_id);

        -- A blind comparison: left/right is the order the user saw (randomised), so the record
        -- can show later that the order did not decide the outcome.
        CREATE TABLE pairwise_judgements (
            id INTEGER PRIMARY KEY,
            left_call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            right_call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            winner TEXT NOT NULL CHECK (winner IN ('left', 'right', 'tie')),
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_pairwise_left ON pairwise_judgements(left_call_id);
        CREATE INDEX idx_pairwise_right ON pairwise_judgements(right_call_id);

        CREATE TABLE datasets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            licence TEXT NOT NULL DEFAULT '',
            selection_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- Outputs picked (or excluded) by hand, on top of the dataset's saved selection.
        CREATE TABLE dataset_picks (
            dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
            call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            included INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (dataset_id, call_id)
        );

        -- Documents attached for retrieval-augmented context, cut into chunks.
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL
        );
        CREATE TABLE call_chunks (
            call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            rank INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (call_id, chunk_id)
        );

        -- Small key/value facts about the workspace (e.g. which project was open last).
        CREATE TABLE workspace_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_full_text_search(db: Database) -> None:
    """Full-text search over outputs, requests and prompts, kept current by triggers.

    External-content FTS5 tables index the text without storing a second copy of it.
    """
    db["calls"].enable_fts(
        ["response_text", "request_json", "variant_name", "model", "error_message"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="porter",
    )
    db["prompt_versions"].enable_fts(
        ["system", "user_template", "examples_json"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="porter",
    )


@migrations()
def m003_run_cells(db: Database) -> None:
    """Where each call sits in its run's matrix, so a run can be resumed and summarised.

    `case_index` is the test case's row in the experiment (calls from an experiment file have no
    test_cases row to point at). `judged_call_id` marks an LLM-judge call and names the call it
    graded: judge calls are logged like any other call but are never a cell of the matrix.
    """
    db.executescript(
        """
        ALTER TABLE calls ADD COLUMN case_index INTEGER;
        ALTER TABLE calls ADD COLUMN judged_call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL;
        CREATE INDEX idx_calls_run_cell ON calls(run_id, variant_name, case_index, sample_index);
        CREATE INDEX idx_calls_judged ON calls(judged_call_id) WHERE judged_call_id IS NOT NULL;
        """
    )


@migrations()
def m004_documents(db: Database) -> None:
    """Documents for retrieval: where each came from and its hash (re-adding a changed file
    updates only what changed), chunks per chunking (variants may differ in chunk size) with the
    section heading they sit under, full-text search over chunks (BM25), embeddings per chunk
    and model, and which chunks each call was given, with score, method and citation. Projects
    gain the document sources they use and the experiment file they come from; variants their
    retrieval setting.
    """
    db.executescript(
        """
        ALTER TABLE projects ADD COLUMN source_path TEXT;
        ALTER TABLE projects ADD COLUMN documents_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE variants ADD COLUMN retrieval_json TEXT;

        ALTER TABLE documents ADD COLUMN source_path TEXT;
        ALTER TABLE documents ADD COLUMN chunking TEXT NOT NULL DEFAULT '400/50';
        ALTER TABLE documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
        ALTER TABLE documents ADD COLUMN content_hash TEXT;
        ALTER TABLE documents ADD COLUMN updated_at TEXT;
        CREATE UNIQUE INDEX idx_documents_source ON documents(project_id, source_path);

        ALTER TABLE chunks ADD COLUMN chunking TEXT NOT NULL DEFAULT '';
        ALTER TABLE chunks ADD COLUMN heading TEXT NOT NULL DEFAULT '';
        ALTER TABLE chunks ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chunks ADD COLUMN content_hash TEXT;
        CREATE INDEX idx_chunks_document ON chunks(document_id, chunking, position);

        ALTER TABLE call_chunks ADD COLUMN score REAL;
        ALTER TABLE call_chunks ADD COLUMN method TEXT;
        ALTER TABLE call_chunks ADD COLUMN citation TEXT;

        CREATE TABLE chunk_embeddings (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dimensions INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (chunk_id, model)
        );
        -- Query embeddings, by the text's hash: the cache that spares a second embeddings call.
        CREATE TABLE text_embeddings (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            dimensions INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, text_hash)
        );
        """
    )
    db["chunks"].enable_fts(["text", "heading"], fts_version="FTS5", create_triggers=True,
                            tokenize="porter")


@migrations()
def m005_chains(db: Database) -> None:
    """Prompt chains: a variant's steps, and each step's call. A chain's cell is one call (the
    last step's request and output, with the chain's totals: tokens, cost, latency); every step
    is a call of its own too, named by `step` and pointing at its chain's call, so it is cached,
    costed and inspectable like any call but never counted as a cell. Prompt versions keep the
    steps, so a version of a chain is all of it."""
    db.executescript(
        """
        ALTER TABLE variants ADD COLUMN steps_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE prompt_versions ADD COLUMN steps_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE calls ADD COLUMN step TEXT;
        ALTER TABLE calls ADD COLUMN chain_call_id INTEGER REFERENCES calls(id) ON DELETE CASCADE;
        CREATE INDEX idx_calls_chain ON calls(chain_call_id) WHERE chain_call_id IS NOT NULL;
        """
    )


@migrations()
def m006_cell_index(db: Database) -> None:
    """Finding the newest call of every cell (what a run's summary and its analysis count) from
    an index alone: judge calls and chain steps are left out of it, so no table row is read to
    skip them."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_calls_cells ON calls(run_id, variant_name, case_index,"
        " sample_index) WHERE judged_call_id IS NULL AND chain_call_id IS NULL"
    )


@migrations()
def m007_unknown_usage(db: Database) -> None:
    """Token counts a provider never reported are unknown (NULL), not 0.

    Until now a failed or cancelled call, and a reply whose server sent no usage (a stream
    without a usage chunk), were logged with 0 tokens, which sums and summaries took at face
    value. Rows with nothing reported (no usage body, or an empty one) and only zeros become
    NULL; a usage the provider did report, even of 0, stays.
    """
    db.execute(
        """
        UPDATE calls
        SET input_tokens = NULL, output_tokens = NULL, cached_tokens = NULL, reasoning_tokens = NULL
        WHERE (usage_json IS NULL OR trim(usage_json) IN ('', '{}', 'null'))
          AND coalesce(input_tokens, 0) = 0 AND coalesce(output_tokens, 0) = 0
          AND coalesce(cached_tokens, 0) = 0 AND coalesce(reasoning_tokens, 0) = 0
        """
    )


@migrations()
def m008_prompt_version_names(db: Database) -> None:
    """A name the user gives a prompt version ("before the refund rule"), shown in its history.
    Versions stay identified by their content hash; the name is only a label."""
    db.execute("ALTER TABLE prompt_versions ADD COLUMN name TEXT NOT NULL DEFAULT ''")


@migrations()
def m009_batches(db: Database) -> None:
    """Batch runs: each batch sent to a provider's batch API (written before it is sent, and
    given the provider's id the moment it is accepted), the cells it holds under their custom
    ids, and on each call answered from a batch the batch it came from. SQL in batches.py."""
    from lab.core.workspace.batches import BATCHES_SCHEMA

    db.executescript(BATCHES_SCHEMA)


@migrations()
def m010_analysis_cell_figures(db: Database) -> None:
    """Figures per cell of a run (variant × test case, its samples together), kept current as
    calls, check results and ratings are written, so the analysis of a run reads one small row
    per cell instead of every call (lab/core/workspace/cell_figures.py says what each holds).
    Triggers mark a cell stale whenever one of its calls, check results or ratings changes,
    whoever writes it; the store recomputes stale cells. Every cell already logged starts stale
    and is computed the first time its run is analysed."""
    db.executescript(
        """
        CREATE TABLE cell_figures_stale (
            run_id INTEGER NOT NULL,
            variant TEXT,
            case_index INTEGER
        );
        CREATE INDEX idx_cell_figures_stale ON cell_figures_stale(run_id, variant, case_index);

        CREATE TABLE cell_calls (
            id INTEGER PRIMARY KEY,  -- the call
            run_id INTEGER NOT NULL,
            variant TEXT NOT NULL,
            case_index INTEGER NOT NULL,
            sample INTEGER,
            status TEXT,
            latency REAL,
            ttft REAL,
            cost REAL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            checks INTEGER NOT NULL,  -- check results
            bit_count INTEGER NOT NULL,  -- of them, named in the bit masks
            present INTEGER NOT NULL,  -- bit mask: the checks it has
            passed INTEGER NOT NULL,  -- bit mask: the checks it passed
            judge REAL,  -- mean LLM-judge score
            score INTEGER,  -- human 1-5
            thumbs INTEGER,
            looks_json INTEGER NOT NULL
        );
        CREATE INDEX idx_cell_calls_cell ON cell_calls(run_id, variant, case_index);
        CREATE INDEX idx_cell_calls_latency ON cell_calls(run_id, variant, latency)
            WHERE status = 'ok' AND latency IS NOT NULL;
        CREATE INDEX idx_cell_calls_ttft ON cell_calls(run_id, variant, ttft)
            WHERE status = 'ok' AND ttft IS NOT NULL;

        -- Sums and counts are NULL where SQL's are (a sum of nothing).
        CREATE TABLE cell_figures (
            run_id INTEGER NOT NULL,
            variant TEXT NOT NULL,
            case_index INTEGER NOT NULL,
            calls INTEGER,
            ok INTEGER,
            errors INTEGER,
            graded INTEGER,  -- successful outputs with checks
            passed INTEGER,  -- of them, every check passed
            judge_mean REAL,
            human_mean REAL,
            rated INTEGER,
            good INTEGER,
            cost REAL,
            priced INTEGER,
            tokens INTEGER,
            input_tokens INTEGER,
            output_tokens INTEGER,
            usage_calls INTEGER,
            exact_pairs INTEGER,  -- agreeing ordered pairs of successful outputs (NULL: none)
            exact_distinct INTEGER,
            normalised_pairs INTEGER,
            normalised_distinct INTEGER,
            check_pairs INTEGER,  -- NULL: no successful output with checks
            check_distinct INTEGER,
            json_outputs INTEGER,
            ok_ids TEXT,  -- successful outputs, comma-separated
            first_id INTEGER,
            last_id INTEGER,
            latency_calls INTEGER,  -- successful outputs with a latency (percentiles count them)
            ttft_calls INTEGER,  -- and with a time to first token
            PRIMARY KEY (run_id, variant, case_index)
        ) WITHOUT ROWID;

        CREATE TABLE cell_check_figures (
            run_id INTEGER NOT NULL,
            variant TEXT NOT NULL,
            case_index INTEGER NOT NULL,
            check_name TEXT NOT NULL,
            graded INTEGER NOT NULL,
            passed INTEGER NOT NULL,
            failed_ids TEXT,
            PRIMARY KEY (run_id, variant, case_index, check_name)
        ) WITHOUT ROWID;

        CREATE TABLE cell_json_fields (
            run_id INTEGER NOT NULL,
            variant TEXT NOT NULL,
            case_index INTEGER NOT NULL,
            field TEXT NOT NULL,
            pairs INTEGER NOT NULL,
            present INTEGER NOT NULL,
            PRIMARY KEY (run_id, variant, case_index, field)
        ) WITHOUT ROWID;
        """
    )
    # (NOT EXISTS, not INSERT OR IGNORE: the statement that fires a trigger imposes its own
    # conflict policy on it, and an upsert's is to fail)
    cell = "{t}.run_id IS NOT NULL AND {t}.judged_call_id IS NULL AND {t}.chain_call_id IS NULL"
    new = (" AND NOT EXISTS (SELECT 1 FROM cell_figures_stale x WHERE x.run_id = {t}.run_id"
           " AND x.variant IS {t}.variant_name AND x.case_index IS {t}.case_index)")
    mark_call = ("INSERT INTO cell_figures_stale SELECT {t}.run_id, {t}.variant_name,"
                 " {t}.case_index WHERE " + cell + new + ";")
    mark_of = ("INSERT INTO cell_figures_stale SELECT c.run_id, c.variant_name, c.case_index"
               " FROM calls c WHERE c.id = {t}.call_id AND " + (cell + new).format(t="c") + ";")
    for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
        body = " ".join(mark_call.format(t=t) for t in rows)
        db.execute(f"CREATE TRIGGER cell_stale_calls_{event.lower()} AFTER {event} ON calls"
                   f" BEGIN {body} END")
        for table in ("check_results", "ratings"):
            body = " ".join(mark_of.format(t=t) for t in rows)
            db.execute(f"CREATE TRIGGER cell_stale_{table}_{event.lower()} AFTER {event} ON"
                       f" {table} BEGIN {body} END")
    db.execute("INSERT INTO cell_figures_stale SELECT DISTINCT run_id, variant_name,"
               " case_index FROM calls c WHERE " + cell.format(t="c"))


@migrations()
def m011_cell_check_sums(db: Database) -> None:
    """The analysis sums every check's figures per variant (cell_figures.CellRows): an index
    that holds them in that order spares it sorting 10,000 cells × checks, and reading their
    ids of failed outputs, which it does not need for the sums."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_cell_check_sums ON cell_check_figures"
               "(run_id, variant, check_name, graded, passed)")


def migration_names() -> list[str]:
    return [m.name for m in migrations._migrations]


SCHEMA_VERSION = len(migration_names())
