"""What the benchmarks share: the machine's description and their own PostgreSQL database."""

import subprocess
from pathlib import Path

BENCH_DB_NAME = "avatar_studio_bench"
BENCH_DB_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB_NAME}"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def ensure_bench_database() -> None:
    """Create the benchmarks' own database on the local PostgreSQL (never a developer's)."""
    listed = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if BENCH_DB_NAME not in listed:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", BENCH_DB_NAME], check=True)
