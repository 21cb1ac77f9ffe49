"""Seeding the sandbox: 100,000 prospects and their org, time and peak memory.

Runs `manage.py sandbox seed` in a child process against a fresh SQLite database in a
temporary directory (so it measures the embedded default and touches nothing else), twice:
into an empty database and over an existing world (the re-seed wipes it first).

    .venv/bin/python bench/sandbox_seed.py [--prospects 100000] [--leads 60000] ...
"""

import argparse
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
    args = ap.parse_args()
    env = {**os.environ, "SWSTUDIO_VAR_DIR": tempfile.mkdtemp(prefix="swstudio-bench-")}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    cmd = [sys.executable, "manage.py", "sandbox", "seed", "--seed", "1"]
    for name, value in vars(args).items():
        cmd += [f"--{name.replace('_', '-')}", value]
    print(" ".join(cmd[1:]))
    for label in ("empty database", "over an existing world"):
        started = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{label}: {wall:.1f} s wall (process incl. Django start-up); "
              f"peak RSS of the largest child so far {peak:.0f} MiB")  # fmt: skip
        print("  " + out.stdout.splitlines()[0])
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
