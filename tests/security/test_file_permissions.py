"""Files holding people's data are readable by their owner (the app's user) alone.

Selfies, avatars and thumbnails are written 0600 in folders made 0700; `make run`'s var/ folder
and SQLite database (API tokens, webhook secrets), with its -wal and -shm files, likewise.
"""

import sqlite3
import stat

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from avatar_studio.core.management.commands.runstack import make_local_state_private

from ..support.jobs import make_finished_job

SQLITE = "django.db.backends.sqlite3"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.django_db
def test_a_stored_selfie_result_and_thumbnail_are_owner_only(alice, media_root):
    job = make_finished_job(alice)
    result = job.results.get()
    stored = [job.selfie.name, result.image.name, result.thumbnail.name]

    for name in stored:
        path = media_root / name
        assert mode(path) == 0o600, name
        # Every folder the storage made for it, up to MEDIA_ROOT itself.
        for folder in path.relative_to(media_root).parents:
            assert mode(media_root / folder) == 0o700, folder


def test_a_file_saved_to_the_default_storage_is_owner_only(media_root):
    name = default_storage.save("avatars/7/deep/inside/output.png", ContentFile(b"png"))

    assert mode(media_root / name) == 0o600
    assert mode(media_root / "avatars" / "7" / "deep") == 0o700


def test_make_run_creates_its_sqlite_database_owner_only(tmp_path):
    var_dir = tmp_path / "var"
    database = var_dir / "db.sqlite3"

    make_local_state_private(var_dir, {"ENGINE": SQLITE, "NAME": str(database)})

    assert mode(var_dir) == 0o700
    assert mode(database) == 0o600
    # SQLite takes the file as an empty database, and gives its WAL files the database's mode.
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE secrets (token TEXT)")
    connection.execute("INSERT INTO secrets VALUES ('whsec_x')")
    connection.commit()
    try:
        for suffix in ("-wal", "-shm"):
            assert mode(database.with_name(f"db.sqlite3{suffix}")) == 0o600, suffix
    finally:
        connection.close()


def test_make_run_tightens_a_var_folder_and_database_made_before(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)
    database = var_dir / "db.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)

    make_local_state_private(var_dir, {"ENGINE": SQLITE, "NAME": str(database)})

    assert mode(var_dir) == 0o700
    assert mode(database) == 0o600
    with sqlite3.connect(database) as connection:  # still a database, untouched
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_make_run_with_another_database_still_makes_var_private(tmp_path):
    var_dir = tmp_path / "var"

    make_local_state_private(
        var_dir, {"ENGINE": "django.db.backends.postgresql", "NAME": "avatar_studio"}
    )

    assert mode(var_dir) == 0o700
    assert list(var_dir.iterdir()) == []
