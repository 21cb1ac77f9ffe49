"""CPU the org stand-in spends serving a Match step's scan: every page of its Lead query.

Seeds a fresh SQLite sandbox in a temporary directory (--leads Leads, as many prospects and
Contacts, every Lead with a prospect's e-mail), then, in this process, runs the query Match
scan mode sends (`SELECT Id, Email, ... FROM Lead WHERE IsConverted = false AND Email !=
null`) through the stand-in's own functions: the first page (`run_query`), every later one
(`query_more`), each page encoded as its answer is. No HTTP: the figure is the stand-in's
query work alone, the part of its CPU in a cycle that no replay of the cycle's writes has.

    .venv/bin/python bench/sandbox_queries.py [--leads 100000] [--rounds 3]

Prints, per round, the process CPU time, records and bytes. The first round starts with the
stand-in's Id cache cold, as a cycle's does.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SOQL = (
    "SELECT Id, Email, FirstName, LastName, OwnerId, SW_Prospect_Id__c, SW_Tags__c, "
    "SW_Temperature__c, SW_Last_Visit__c, SW_Favorite__c FROM Lead "
    "WHERE IsConverted = false AND Email != null"
)


def scan(sfstore, dumps):
    started = time.process_time()
    page = sfstore.run_query(SOQL, False, "59.0")
    records, size = len(page["records"]), len(dumps(page))
    while not page["done"]:
        page = sfstore.query_more(page["nextRecordsUrl"].rsplit("/", 1)[1], "59.0")
        records += len(page["records"])
        size += len(dumps(page))
    return time.process_time() - started, records, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="swstudio-bench-")
    try:
        os.environ.update(
            SWSTUDIO_VAR_DIR=var,
            DATABASE_URL=f"sqlite:///{var}/sandbox.sqlite3",
            DJANGO_SETTINGS_MODULE="swstudio_site.settings",
            DEBUG="false",
            SECURE_SSL_REDIRECT="false",
            SANDBOX_ENABLED="true",
            SECRET_KEY="swstudio-bench-only",
            LOG_LEVEL="WARNING",
        )
        run = {"check": True, "cwd": ROOT, "stdout": subprocess.DEVNULL}
        subprocess.run([PY, "manage.py", "migrate", "-v0"], **run)
        n = str(args.leads)
        subprocess.run(
            [PY, "manage.py", "sandbox", "seed", "--prospects", n, "--leads", n,
             "--contacts", n, "--accounts", "100", "--opportunities", "100",
             "--match-share", "1"],
            **run,
        )  # fmt: skip
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from sandbox import sfstore
        from sandbox.fastjson import dumps

        for round_ in range(1, args.rounds + 1):
            cpu, records, size = scan(sfstore, dumps)
            print(
                f"round {round_}: {cpu:.2f} CPU-s, {records:,} records, {size / 1e6:.1f} MB, "
                f"{cpu / records * 1e6:.1f} us a record"
            )
    finally:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
