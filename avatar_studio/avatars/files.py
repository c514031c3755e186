"""Removing stored files: the one place that deletes the files of deleted rows.

Deleting a job, a result or a user, through any door (the app, the API, the admin, a cascade),
removes their files from storage once the deletion has committed: the ``post_delete`` receivers
connected in ``AvatarsConfig.ready`` (jobs and results) and ``AccountsConfig.ready`` (a user's
whole prefixes). A deletion that rolls back keeps its files.
"""

import logging
import os
from contextlib import suppress

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction

logger = logging.getLogger(__name__)

# What a storage raises when it cannot store or read a file: the disk (full, read-only) or S3
# (out of reach, refusing). boto3 is a runtime requirement, so botocore is always there.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)

# Where a user's files live in storage (see models.selfie_upload_to, garment_upload_to and
# result_path): everything under these prefixes belongs to that user alone.
USER_PREFIXES = ("selfies/{user_id}", "avatars/{user_id}", "garments/{user_id}")


def delete_files(names, storage=None):
    """Delete stored files by name; a file already gone is not an error.

    Returns the names that could not be deleted (logged; ``purge_orphan_files`` finds them
    again later)."""
    storage = storage or default_storage
    failed = []
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception as error:  # noqa: BLE001 - one stuck file must not keep the others
            logger.error("could not delete stored file %s: %r", name, error)
            failed.append(name)
    return failed


def delete_after_commit(names, using):
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: delete_files(names), using=using)


def on_job_deleted(sender, instance, using, **kwargs):
    """``post_delete`` of a job (also by cascade, e.g. its owner deleted in the admin)."""
    delete_after_commit([instance.selfie.name, instance.garment_image.name], using)


def on_result_deleted(sender, instance, using, **kwargs):
    delete_after_commit([instance.image.name, instance.thumbnail.name], using)


def delete_user_files(user_id, storage=None):
    """Delete everything stored under a user's prefixes. Returns the names deleted."""
    storage = storage or default_storage
    deleted = []
    for prefix in USER_PREFIXES:
        deleted += _delete_tree(storage, prefix.format(user_id=user_id))
    return deleted


def _delete_tree(storage, path):
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return []
    except Exception as error:  # noqa: BLE001 - storage out of reach: the rows are gone already
        # Nothing names these files any more: purge_orphan_files deletes them later.
        logger.error("could not list stored files under %s: %r", path, error)
        return []
    deleted = []
    for name in files:
        full = f"{path}/{name}"
        delete_files([full], storage)
        deleted.append(full)
    for directory in directories:
        deleted += _delete_tree(storage, f"{path}/{directory}")
    if isinstance(storage, FileSystemStorage):
        # Leave no empty folder named after the user behind.
        with suppress(OSError):
            os.rmdir(storage.path(path))
    return deleted
