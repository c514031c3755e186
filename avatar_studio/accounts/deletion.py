"""Deleting an account: the user, every job and every file of theirs, their API token.

``delete_account`` is what the settings page calls. Deleting a user any other way (the admin, a
script) removes their files too: the jobs and results go by cascade, and the ``post_delete``
receivers (``avatars.files`` for jobs and results, ``on_user_deleted`` here for whatever is
left under the user's storage prefixes) delete the files once the deletion has committed.
"""

import logging

from django.db import transaction
from rest_framework.authtoken.models import Token

from avatar_studio.avatars.files import delete_user_files

logger = logging.getLogger(__name__)


def delete_account(user):
    """Delete the user and all that is theirs. Returns the number of jobs deleted."""
    user_id = user.pk
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        jobs = user.avatar_jobs.count()
        user.delete()
    logger.info("account %s deleted with %s job(s)", user_id, jobs)
    return jobs


def on_user_deleted(sender, instance, using, **kwargs):
    user_id = instance.pk

    def remove_files():
        deleted = delete_user_files(user_id)
        if deleted:
            logger.info("account %s: %s stored file(s) removed", user_id, len(deleted))

    transaction.on_commit(remove_files, using=using)
