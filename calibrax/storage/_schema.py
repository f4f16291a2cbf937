"""The store's schema: the table definitions, the schema version and the migrations.

The schema is versioned by the ``schema_version`` row of the ``meta`` table, and every store
carries calibrax's ``PRAGMA application_id`` (:data:`APPLICATION_ID`), so a file is known for
a calibrax store before anything is written to it (the checks are in ``_opening``).
``MIGRATIONS[n]`` takes a store from version ``n`` to ``n + 1``; version 0 is an empty file. To
change the schema, append a migration and never edit an old one: stores written by older
versions must keep opening (a hand-written version-1 fixture in the tests pins that format).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlite_utils import Database

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION"]

APPLICATION_ID = 0x43425844
"""The ``PRAGMA application_id`` of every calibrax store (the bytes ``CBXD``)."""

_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE hardware (
    fingerprint TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    backend TEXT NOT NULL,
    device_kind TEXT NOT NULL,
    cpu_model TEXT NOT NULL
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    config TEXT NOT NULL DEFAULT '{}',
    overrides TEXT NOT NULL DEFAULT '[]',
    sweep_id TEXT,
    hardware_id TEXT REFERENCES hardware(fingerprint),
    hardware_info TEXT,
    pid INTEGER,
    hostname TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    benchmark TEXT NOT NULL,
    params TEXT NOT NULL,
    params_key TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    started_at TEXT NOT NULL DEFAULT '',
    duration REAL NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE measures (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL,
    median REAL,
    mean REAL,
    min REAL,
    max REAL,
    std REAL,
    iqr REAL,
    mad REAL,
    ci_low REAL,
    ci_high REAL,
    ci_level REAL,
    meta TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, name)
);
CREATE TABLE samples (
    case_id INTEGER NOT NULL,
    measure TEXT NOT NULL,
    "values" TEXT NOT NULL,
    PRIMARY KEY (case_id, measure),
    FOREIGN KEY (case_id, measure) REFERENCES measures(case_id, name) ON DELETE CASCADE
);
CREATE TABLE baselines (
    name TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    created_at TEXT NOT NULL
);
CREATE TABLE verdicts (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    baseline_run_id TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    params TEXT NOT NULL,
    measure TEXT NOT NULL,
    verdict TEXT NOT NULL,
    ratio REAL,
    baseline REAL,
    candidate REAL,
    margin REAL,
    message TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_run_seq ON cases(run_id, seq);
CREATE INDEX cases_history ON cases(benchmark, params_key);
CREATE INDEX runs_started_at ON runs(started_at);
CREATE INDEX runs_sweep ON runs(sweep_id);
CREATE INDEX verdicts_run ON verdicts(run_id);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
"""


def _create_v1(db: Database) -> None:
    """Version 0 -> 1: create every table and index on an empty file."""
    db.executescript(_V1)


def _v1_to_v2(db: Database) -> None:
    """Version 1 -> 2: outlier counts on measures; CI, p-values and details on verdicts."""
    db.executescript(
        """
        ALTER TABLE measures ADD COLUMN outliers_tukey INTEGER;
        ALTER TABLE measures ADD COLUMN outliers_modz INTEGER;
        ALTER TABLE verdicts ADD COLUMN ci_low REAL;
        ALTER TABLE verdicts ADD COLUMN ci_high REAL;
        ALTER TABLE verdicts ADD COLUMN p_value REAL;
        ALTER TABLE verdicts ADD COLUMN p_adjusted REAL;
        ALTER TABLE verdicts ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
        """
    )


def _v2_to_v3(db: Database) -> None:
    """Version 2 -> 3: monitoring alerts (one row per alert id) and validation checks per run."""
    db.executescript(
        """
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            rule TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            at TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '{}',
            value REAL,
            threshold REAL,
            run_id TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE TABLE validations (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            passed INTEGER NOT NULL,
            message TEXT NOT NULL,
            figures TEXT NOT NULL DEFAULT '{}',
            gate INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX alerts_at ON alerts(at);
        CREATE INDEX alerts_run ON alerts(run_id);
        """
    )


def _v3_to_v4(db: Database) -> None:
    """Version 3 -> 4: covering indexes so a case's history over 10^4 runs reads in order
    from ``runs_started_at`` without a sort or table lookups."""
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS cases_history_cover ON cases(benchmark, status, run_id, seq, params);
        CREATE INDEX IF NOT EXISTS measures_cover ON measures(case_id, name, median, ci_low, ci_high, n);
        """
    )


def _v4_to_v5(db: Database) -> None:
    """Version 4 -> 5: files written for a case (a profiler trace), with a JSON summary each."""
    db.executescript(
        """
        CREATE TABLE artifacts (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            case_seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT '',
            path TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, case_seq, name)
        );
        """
    )


def _v5_to_v6(db: Database) -> None:
    """Version 5 -> 6: what a benchmark's cases give together (complexity fits), one row per
    run and benchmark, instead of the meta of its last case (moved over here); each measure's
    usual basis and its provenance (measured, derived or modelled, and from what; rows of older
    stores read as their measure's usual basis)."""
    db.executescript(
        """
        ALTER TABLE measures ADD COLUMN basis TEXT;
        ALTER TABLE measures ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE benchmark_results (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            benchmark TEXT NOT NULL,
            complexity TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (run_id, benchmark)
        );
        """
    )
    rows = db.execute("SELECT id, run_id, benchmark, meta FROM cases WHERE meta LIKE '%\"complexity\"%'").fetchall()
    for case_id, run_id, benchmark, meta_text in rows:
        meta = json.loads(meta_text)
        fits = meta.pop("complexity", None)
        if fits is None:
            continue
        db.execute("INSERT OR REPLACE INTO benchmark_results (run_id, benchmark, complexity) VALUES (?, ?, ?)",
                   [run_id, benchmark, json.dumps(fits)])
        db.execute("UPDATE cases SET meta = ? WHERE id = ?", [json.dumps(meta), case_id])


def _stamp_application_id(db: Database) -> None:
    """Stamp calibrax's ``PRAGMA application_id`` in the file header, so that a store is told
    from another program's database (one with a ``meta`` table, say) before any write."""
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _add_annotations(db: Database) -> None:
    """Annotations of runs: a note, an exclusion (of a run, or of one benchmark's cases in it, or
    of one case) left out of histories, or an accepted shift that histories restart after; and an
    index that reads every case of every run in one ordered pass (``calibrax publish``)."""
    db.executescript(
        """
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            benchmark TEXT,
            params_key TEXT,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX annotations_run ON annotations(run_id);
        CREATE INDEX IF NOT EXISTS cases_publish ON cases(benchmark, params_key, status, run_id);
        """
    )


def _alert_deliveries(db: Database) -> None:
    """Alert delivery outbox: one row per alert and sink with its delivery state (``pending``,
    ``sending`` under a claim until ``lease_until``, or ``delivered``), attempts, when the next
    attempt is due and the last error. Alerts stored before it count as delivered."""
    db.executescript(
        """
        CREATE TABLE alert_deliveries (
            alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            sink TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL DEFAULT 0,
            claim TEXT,
            lease_until REAL,
            last_error TEXT,
            delivered_at TEXT,
            PRIMARY KEY (alert_id, sink)
        );
        CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_at);
        """
    )


def _interleaved_links(db: Database) -> None:
    """The evidence of an interleaved gate: ``runs.interleaved_of`` names, on the run that holds
    the baseline side's trial values, the candidate run it was measured beside; and
    ``interleaved_trials`` keeps every trial value of both sides (``arm`` A baseline, B
    candidate) at its ``position`` in the gate's trial order, keyed by the candidate run."""
    columns = {str(row[1]) for row in db.execute("PRAGMA table_info(runs)").fetchall()}
    if "interleaved_of" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN interleaved_of TEXT")
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS runs_interleaved_of ON runs(interleaved_of) WHERE interleaved_of IS NOT NULL;
        CREATE TABLE IF NOT EXISTS interleaved_trials (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            case_key TEXT NOT NULL,
            measure TEXT NOT NULL,
            position INTEGER NOT NULL,
            arm TEXT NOT NULL CHECK (arm IN ('A', 'B')),
            value REAL NOT NULL,
            PRIMARY KEY (run_id, case_key, measure, position)
        );
        """
    )


def _annotation_measure(db: Database) -> None:
    """An accepted shift may concern one measure only: ``annotations.measure`` (NULL: every measure)."""
    if "measure" not in {str(row[1]) for row in db.execute("PRAGMA table_info(annotations)").fetchall()}:
        db.execute("ALTER TABLE annotations ADD COLUMN measure TEXT")


def _benchmark_stamps(db: Database) -> None:
    """``benchmark_stamps`` keeps, per benchmark, how many case rows it has and the newest case
    row id ever stored for it, kept current by triggers on ``cases``, so ``calibrax publish``
    learns what changed without counting a million rows. A deleted row lowers the count (the
    newest id stays), so any change of a benchmark's rows changes its stamp."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS benchmark_stamps (
            benchmark TEXT PRIMARY KEY,
            cases INTEGER NOT NULL,
            last_id INTEGER NOT NULL
        );
        DELETE FROM benchmark_stamps;
        INSERT INTO benchmark_stamps (benchmark, cases, last_id)
            SELECT benchmark, COUNT(*), MAX(id) FROM cases GROUP BY benchmark;
        CREATE TRIGGER IF NOT EXISTS cases_stamp_insert AFTER INSERT ON cases BEGIN
            INSERT INTO benchmark_stamps (benchmark, cases, last_id) VALUES (NEW.benchmark, 1, NEW.id)
            ON CONFLICT (benchmark) DO UPDATE SET cases = cases + 1, last_id = MAX(last_id, NEW.id);
        END;
        CREATE TRIGGER IF NOT EXISTS cases_stamp_delete AFTER DELETE ON cases BEGIN
            UPDATE benchmark_stamps SET cases = cases - 1 WHERE benchmark = OLD.benchmark;
            DELETE FROM benchmark_stamps WHERE benchmark = OLD.benchmark AND cases <= 0;
        END;
        CREATE TRIGGER IF NOT EXISTS cases_stamp_rename AFTER UPDATE OF benchmark ON cases
        WHEN NEW.benchmark IS NOT OLD.benchmark BEGIN
            UPDATE benchmark_stamps SET cases = cases - 1 WHERE benchmark = OLD.benchmark;
            DELETE FROM benchmark_stamps WHERE benchmark = OLD.benchmark AND cases <= 0;
            INSERT INTO benchmark_stamps (benchmark, cases, last_id) VALUES (NEW.benchmark, 1, NEW.id)
            ON CONFLICT (benchmark) DO UPDATE SET cases = cases + 1, last_id = MAX(last_id, NEW.id);
        END;
        """
    )


MIGRATIONS: list[Callable[[Database], None]] = [
    _create_v1, _v1_to_v2, _v2_to_v3, _v3_to_v4, _v4_to_v5, _v5_to_v6, _stamp_application_id, _add_annotations,
    _alert_deliveries, _interleaved_links, _annotation_measure, _benchmark_stamps,
]
"""``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes and the newest one it can read."""
