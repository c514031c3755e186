"""The record of the hostile-input run, for docs/RELIABILITY.md (bench/reliability_table.py)."""

import json

import pytest
from django.db import connection

from ..support.reliability import BASE_DIR

ARTIFACT = BASE_DIR / "test-artifacts" / "hostile.json"


@pytest.fixture(scope="session")
def hostile_record():
    """``record[case name][channel] = what happened``, written when the session ends."""
    record = {}
    yield record
    if not record:
        return
    try:
        data = json.loads(ARTIFACT.read_text())
    except (OSError, ValueError):
        data = {}
    data[connection.vendor] = record
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
