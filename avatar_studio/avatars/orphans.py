"""Finding and removing stored files that no row points to (``manage.py purge_orphan_files``).

Files are deleted with their rows (``files``), but a deletion can fail after the row is gone
(the storage out of reach, a worker killed between the two) and leave a file nobody can reach:
a selfie kept against the privacy policy, or just paid-for storage. This sweep lists the media
storage (the filesystem under MEDIA_ROOT or the S3 bucket, which are the app's alone), reads
every name held by a file field of every model (found from the models, so a new field is
covered without a change here), and deletes the files no row names.

A file must be older than a minimum age to go: an upload or a completed prediction writes its
file before the row that points to it commits. The storage is listed before the rows are read,
so a row committed meanwhile protects its file.

Beat runs it daily (``purge_orphan_files_task``, the entry ``purge-orphan-files``).
"""

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from .files import STORAGE_ERRORS, delete_files

logger = logging.getLogger(__name__)

DEFAULT_MIN_AGE_MINUTES = 60


@dataclass(frozen=True)
class StoredFile:
    name: str
    modified_at: object  # an aware datetime
    size: int


@dataclass
class OrphanReport:
    """What a sweep found: the orphans (deleted unless a dry run) and what it left alone."""

    orphans: list = field(default_factory=list)  # StoredFile
    failed: list = field(default_factory=list)  # names of orphans that could not be deleted
    too_recent: int = 0  # unreferenced, but younger than the minimum age
    referenced: int = 0
    dry_run: bool = False


def file_fields():
    """Every (model, file field) of the installed apps: ImageField is a FileField too."""
    return [
        (model, model_field)
        for model in apps.get_models()
        if not model._meta.proxy
        for model_field in model._meta.get_fields()
        if isinstance(model_field, models.FileField)
    ]


def referenced_names():
    """The names every file field of every row holds (blank ones left out)."""
    names = set()
    for model, model_field in file_fields():
        values = model._base_manager.exclude(**{model_field.attname: ""}).values_list(
            model_field.attname, flat=True
        )
        names.update(name for name in values.iterator() if name)
    return names


def stored_files(storage=None):
    """Every file in the media storage, with its modification time and size."""
    storage = storage or default_storage
    if hasattr(storage, "bucket_name"):  # S3: one flat listing, not a request per folder
        return list(_bucket_files(storage))
    try:
        return list(_tree_files(storage, ""))
    except FileNotFoundError:  # MEDIA_ROOT not made yet: nothing was ever stored
        return []


def _bucket_files(storage):
    prefix = storage.location.strip("/") + "/" if storage.location else ""
    client = storage.connection.meta.client
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=storage.bucket_name, Prefix=prefix
    )
    for page in pages:
        for item in page.get("Contents", []):
            yield StoredFile(item["Key"][len(prefix) :], item["LastModified"], item["Size"])


def _tree_files(storage, folder):
    directories, files = storage.listdir(folder)
    for name in files:
        full = f"{folder}/{name}" if folder else name
        stat = os.stat(storage.path(full))
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        yield StoredFile(full, modified, stat.st_size)
    for directory in directories:
        yield from _tree_files(storage, f"{folder}/{directory}" if folder else directory)


def purge_orphan_files(
    *, min_age_minutes=DEFAULT_MIN_AGE_MINUTES, dry_run=False, storage=None, now=None
):
    """Delete (or, with ``dry_run``, only list) the stored files no row points to that are
    older than ``min_age_minutes`` at ``now``. Returns an ``OrphanReport``."""
    storage = storage or default_storage
    cutoff = (now or timezone.now()) - timedelta(minutes=min_age_minutes)
    listed = stored_files(storage)  # before the rows: see the module's docstring
    kept = referenced_names()
    report = OrphanReport(dry_run=dry_run)
    for stored in sorted(listed, key=lambda stored: stored.name):
        if stored.name in kept:
            report.referenced += 1
        elif stored.modified_at > cutoff:
            report.too_recent += 1
        else:
            report.orphans.append(stored)
    if not dry_run and report.orphans:
        report.failed = delete_files([stored.name for stored in report.orphans], storage)
        logger.info("%s orphan file(s) deleted", len(report.orphans) - len(report.failed))
    return report


@shared_task(name="avatars.purge_orphan_files", ignore_result=True)
def purge_orphan_files_task():
    """Beat's sweep: delete the orphans older than the default minimum age, which leaves alone
    the files being written now (their rows commit within a step's lease, far less than that).
    Returns how many were deleted."""
    try:
        report = purge_orphan_files(min_age_minutes=DEFAULT_MIN_AGE_MINUTES)
    except STORAGE_ERRORS as error:
        # Nothing was deleted; the next run finds the same files.
        logger.warning("orphan files not purged: the media storage could not be listed: %r", error)
        return 0
    if report.failed:
        logger.warning("%s orphan file(s) could not be deleted", len(report.failed))
    return len(report.orphans) - len(report.failed)
