"""What an index costs on scan mode's hits table (`MatchScanHit`), side by side in one run.

    python bench/scan_hits.py [--rows 55000] [--rounds 3]

Scan mode writes one hit per matched Lead or Contact (steps/matching/), so the insert is on
the cycle's hot path. Inserts the same rows, 400 a transaction as `land` does, into the table
as migration 0007 made it (with an `email_key` column and an (object, email_key) index) and
as it is since 0009 (neither), in fresh SQLite files with the project's PRAGMAs (WAL,
synchronous=NORMAL). The tables are written here in plain SQL, as the migrations make them
on SQLite, so both shapes can be measured from one checkout.
"""

import argparse
import os
import random
import sqlite3
import tempfile
import time

BEFORE = [
    'CREATE TABLE "hits" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "object" varchar(10) '
    'NOT NULL, "prospect_pk" bigint NOT NULL, "email_key" varchar(254) NOT NULL, "record_id" '
    'varchar(18) NOT NULL, "error" text NOT NULL, "attempt" bool NOT NULL)',
    'CREATE INDEX "hits_obj_prospect" ON "hits" ("object", "prospect_pk")',
    'CREATE INDEX "hits_obj_email" ON "hits" ("object", "email_key")',
]
AFTER = [
    'CREATE TABLE "hits" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "object" varchar(10) '
    'NOT NULL, "prospect_pk" bigint NOT NULL, "record_id" varchar(18) NOT NULL, "error" text '
    'NOT NULL, "attempt" bool NOT NULL)',
    'CREATE INDEX "hits_obj_prospect" ON "hits" ("object", "prospect_pk")',
]


def insert(schema, rows, with_email):
    with tempfile.TemporaryDirectory(prefix="swbench-hits-") as var:
        return _insert(os.path.join(var, "db.sqlite3"), schema, rows, with_email)


def _insert(path, schema, rows, with_email):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for statement in schema:
        db.execute(statement)
    if with_email:
        sql = "INSERT INTO hits (object, prospect_pk, email_key, record_id, error, attempt) "
        sql += "VALUES (?, ?, ?, ?, ?, ?)"
    else:
        sql = "INSERT INTO hits (object, prospect_pk, record_id, error, attempt) "
        sql += "VALUES (?, ?, ?, ?, ?)"
        rows = [(o, p, r, e, a) for o, p, _, r, e, a in rows]
    t = time.perf_counter()
    for start in range(0, len(rows), 400):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(sql, rows[start : start + 400])
        db.execute("COMMIT")
    seconds = time.perf_counter() - t
    db.close()
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=55000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rnd = random.Random(3)
    rows = [
        (
            "Lead",
            rnd.randrange(1, args.rows),  # prospects come in the scan's order, not by key
            f"p{rnd.getrandbits(40):x}@example{i % 97}.com",
            f"00Q{rnd.getrandbits(60):015x}"[:18],
            "",
            False,
        )
        for i in range(args.rows)
    ]
    print(f"{args.rows} hits, 400 a transaction; microseconds a row")
    for round_ in range(1, args.rounds + 1):
        before = insert(BEFORE, rows, True) / args.rows * 1e6
        after = insert(AFTER, rows, False) / args.rows * 1e6
        print(
            f"round {round_}: with the e-mail index {before:.1f}, without {after:.1f} "
            f"(ratio {before / after:.2f})"
        )


if __name__ == "__main__":
    main()
