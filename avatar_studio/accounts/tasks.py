"""Celery tasks: the mails that sign-up and password reset ask for, sent after the request."""

import logging
import smtplib

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from . import mails

logger = logging.getLogger(__name__)


class MailTask(Task):
    """A mail a request asked for. A broker that is down must not fail that request: the page
    already says to ask again if no mail comes, so the send is logged and dropped."""

    autoretry_for = (smtplib.SMTPException, OSError)
    retry_backoff = 30
    max_retries = 5
    ignore_result = True

    def apply_async(self, *args, **kwargs):
        try:
            return super().apply_async(*args, **kwargs)
        except OperationalError as error:
            logger.warning("%s not sent, the broker is unreachable: %r", self.name, error)
            return None


@shared_task(base=MailTask, name="accounts.send_signup_mail")
def send_signup_mail(email, domain, use_https):
    mails.send_signup_mail(email, domain, use_https)


@shared_task(base=MailTask, name="accounts.send_password_reset_mail")
def send_password_reset_mail(email, domain, use_https):
    mails.send_password_reset_mail(email, domain, use_https)
