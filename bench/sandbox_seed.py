"""Seeding the sandbox: 100,000 prospects and their org, time and peak memory.

Runs `manage.py sandbox seed` in a child process against a fresh SQLite database in a
temporary directory (so it measures the embedded default and touches nothing else), twice:
into an empty database and over an existing world (the re-seed wipes it first).

    .venv/bin/python bench/sandbox_seed.py [--prospects 100000] [--leads 60000] ... [--json]

--json adds a last line of JSON with the figures for bench/run: the re-seed against the
seed into an empty database (side by side), and the full-size figures against the ones
recorded in docs/benchmarks.md.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prospects", default="100000")
    ap.add_argument("--leads", default="60000")
    ap.add_argument("--contacts", default="60000")
    ap.add_argument("--accounts", default="10000")
    ap.add_argument("--opportunities", default="15000")
    ap.add_argument("--activities-per-prospect", default="2")
    ap.add_argument("--json", action="store_true", help="a last line of JSON for bench/run")
    args = ap.parse_args()
    as_json = vars(args).pop("json")
    full_size = vars(args) == {a.dest: a.default for a in ap._actions if a.dest in vars(args)}
    env = {**os.environ, "SWSTUDIO_VAR_DIR": tempfile.mkdtemp(prefix="swstudio-bench-")}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    cmd = [sys.executable, "manage.py", "sandbox", "seed", "--seed", "1"]
    for name, value in vars(args).items():
        cmd += [f"--{name.replace('_', '-')}", value]
    print(" ".join(cmd[1:]))
    runs = {}
    for label in ("empty database", "over an existing world"):
        started = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{label}: {wall:.1f} s wall (process incl. Django start-up); "
              f"peak RSS of the largest child so far {peak:.0f} MiB")  # fmt: skip
        print("  " + out.stdout.splitlines()[0])
        runs[label] = (wall, peak)
    print(f"load average: {os.getloadavg()}")
    if as_json:
        empty, again = runs["empty database"], runs["over an existing world"]
        # Recorded in docs/benchmarks.md (2026-11-27, default sizes): 15.6 s, 275 MiB.
        recorded = {"reference": "recorded 2026-11-27", "target": None} if full_size else {}
        figures = [
            {"figure": f"seed {args.prospects} prospects, empty database", "value": empty[0],
             "unit": "s", "reference_value": 15.6 if full_size else None, **recorded},
            {"figure": "peak RSS, seeding", "value": empty[1], "unit": "MiB",
             "reference_value": 275 if full_size else None, **recorded},
            {"figure": "re-seed over an existing world", "value": again[0], "unit": "s",
             "reference": "seed into an empty database (same run)", "reference_value": empty[0],
             "target": None},
        ]  # fmt: skip
        print(json.dumps({"bench": "sandbox_seed", "figures": figures}))


if __name__ == "__main__":
    main()
