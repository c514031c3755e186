"""Webhook deliveries: an event recorded when an avatar or a try-on ends, then sent until
delivered or given up.

    job_finished ─▶ on_job_finished ─▶ tell_end for each webhook of the job: the avatar's, or
        those of every look at the try-on ─▶ a WebhookDelivery (body fixed now), its task sent
        on commit
    a try-on asked for with a webhook_url once it has ended ─▶ tell_end at once (add_to_tryon)
    deliver_webhook(id, token) ─▶ claim (compare-and-swap) ─▶ one signed POST ─▶
        2xx ─▶ delivered
        else, attempts left ─▶ new token, task again after backoff with jitter (countdown)
        else ─▶ failed (gave up)

Like the job state machine (``avatars.pipeline.transitions``), every change is an ``UPDATE ...
WHERE`` that names the state (and the token) it expects, and a task acts only if its update
matched. An end is told to a webhook once (``Webhook.told_end_at``), whichever of the two paths
finds it first. An attempt first claims its delivery until ``claimed_until`` (longer than any
attempt can take), so a duplicated or redelivered message never sends the same delivery twice
at once; a message whose worker died may claim it again once that claim has run out. A delivery
whose avatar or try-on was deleted is gone with it (cascade): its task finds nothing and stops
quietly. The secret is never logged.
"""

import logging
import random
import uuid
from datetime import timedelta
from urllib.parse import urljoin

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from . import webhooks
from .models import DeliveryState, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

# The Celery task that makes one delivery attempt (``api.tasks``).
DELIVER_TASK = "api.deliver_webhook"

# The event that tells a job's end, by what the webhook is about (``Webhook.subject``).
EVENTS = {
    "avatar": {"completed": webhooks.EVENT_COMPLETED, "failed": webhooks.EVENT_FAILED},
    "tryon": {"completed": webhooks.EVENT_TRYON_COMPLETED, "failed": webhooks.EVENT_TRYON_FAILED},
}
# What an event's body needs of a try-on webhook, read in one query.
_TRYON_SHOWN = ("look__tryon__job", "look__tryon__avatar_result")


class _BaseURL:
    """Stands in for the request when the avatar or try-on is shown outside one: links start
    with the API address the client used when it asked for it."""

    def __init__(self, base_url):
        self.base_url = base_url

    def build_absolute_uri(self, location):
        return urljoin(self.base_url, location)


def event_body(delivery, webhook):
    """The JSON body of ``delivery``'s event, as bytes: the avatar (``"avatar"``) or the try-on
    (``"tryon"``) as the API's reads show it."""
    from .serializers import AvatarEventSerializer
    from .tryon_serializers import TryOnEventSerializer

    context = {"request": _BaseURL(webhook.api_base_url)}
    if webhook.subject == "avatar":
        shown = AvatarEventSerializer(webhook.job, context=context).data
    else:
        shown = TryOnEventSerializer(webhook.look, context=context).data
    body = {
        "id": str(delivery.id),
        "event": delivery.event,
        "created_at": serializers.DateTimeField().to_representation(delivery.created_at),
        webhook.subject: shown,
    }
    return JSONRenderer().render(body)


# --- Webhooks ---------------------------------------------------------------------------------


def new_webhook(url, api_base_url, **subject):
    """A webhook on ``job=`` (an avatar) or ``look=`` (a try-on) with a secret of its own."""
    return Webhook.objects.create(
        url=url, secret=webhooks.generate_secret(), api_base_url=api_base_url, **subject
    )


def add_to_tryon(start_tryon, url, api_base_url):
    """The look ``start_tryon()`` gives and, when ``url`` is given, a new webhook on it, saved
    together: ``(look, webhook or None)``.

    A try-on that has already ended (a cached one) gets its event at once. The end is read only
    once the webhook is committed: an end committed before that is seen here, one committed
    after it finds the webhook (``on_job_finished``); ``tell_end`` tells it once if both do.
    """
    with transaction.atomic():
        look = start_tryon()
        webhook = new_webhook(url, api_base_url, look=look) if url else None
    if webhook is not None:
        # Fresh: the try-on's job as it is now. None if the look was deleted meanwhile.
        webhook = Webhook.objects.select_related(*_TRYON_SHOWN).filter(pk=webhook.pk).first()
        if webhook is not None:
            tell_end(webhook)
    return look, webhook


# --- Events -----------------------------------------------------------------------------------


def on_job_finished(sender, job_id, status, **kwargs):
    """``avatars.pipeline.signals.job_finished`` receiver: tell the end to the job's webhooks,
    the avatar's or those of every look at the try-on. Quick: two reads, an insert per webhook;
    the POSTs are the tasks' job. Returns the deliveries recorded."""
    found = list(Webhook.objects.select_related("job").filter(job_id=job_id))
    found += Webhook.objects.select_related(*_TRYON_SHOWN).filter(look__tryon__job_id=job_id)
    told = (tell_end(webhook) for webhook in found)
    return [delivery for delivery in told if delivery is not None]


def tell_end(webhook):
    """Record the event of the end its job is at (``ended_job``, as loaded), unless that end was
    told to this webhook already. None if the job is not at an end, was told, or is gone."""
    job = webhook.ended_job
    event = EVENTS[webhook.subject].get(str(job.status))
    if event is None or job.finished_at is None:
        return None  # running again (retried) since: its next end will be told
    untold = Webhook.objects.filter(pk=webhook.pk).exclude(told_end_at=job.finished_at)
    # Compare-and-swap: of two callers that find the same end, one records it.
    return _recorded(webhook, event, only_if=lambda: untold.update(told_end_at=job.finished_at))


def record_event(webhook, event):
    """A new delivery of ``event`` to ``webhook``, its first attempt sent once it is committed.

    None if the avatar or try-on was deleted meanwhile."""
    return _recorded(webhook, event)


def _recorded(webhook, event, only_if=None):
    """The delivery of ``event`` to ``webhook``, saved in a transaction of its own (foreign keys
    are checked when it commits: that is where a deleted subject shows); None if ``only_if()``,
    called in that transaction first, is false."""
    now = timezone.now()
    delivery = WebhookDelivery(
        webhook=webhook, event=event, created_at=now, token=uuid.uuid4(), next_attempt_at=now
    )
    delivery.payload = event_body(delivery, webhook).decode()
    try:
        with transaction.atomic():
            if only_if is not None and not only_if():
                return None
            delivery.save(force_insert=True)
            Webhook.objects.filter(pk=webhook.pk).update(last_delivery=delivery)
            _schedule(delivery.pk, delivery.token, 0.0)
    except IntegrityError:
        logger.info("webhook event %s for %s dropped: it is gone", event, webhook.describe())
        return None
    webhook.last_delivery = delivery
    logger.info("%s: webhook event %s recorded as %s", webhook.describe(), event, delivery.pk)
    return delivery


def _schedule(delivery_id, token, countdown):
    """Send the delivery's task once the current transaction commits. If the broker cannot take
    it, the error is logged and the sweeper sends it later.

    The task is looked up by name in Celery's registry (``tasks`` registers it), because
    ``tasks`` imports this module."""
    task = current_app.tasks[DELIVER_TASK]
    transaction.on_commit(
        lambda: task.apply_async(
            args=[str(delivery_id), str(token)], countdown=max(0.0, countdown)
        ),
        robust=True,
    )


def retry_delay(attempts):
    """Exponential backoff with jitter (±20 %) after ``attempts`` failed attempts, capped."""
    base = settings.API_WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return min(base, settings.API_WEBHOOK_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)


# --- Attempts ---------------------------------------------------------------------------------


def attempt(delivery_id, token, policy=None):
    """Make one attempt at the delivery, if ``token`` is still its token and no other attempt
    holds it. Returns the attempt's result, or None if there was nothing to do."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, token=token, state=DeliveryState.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=settings.API_WEBHOOK_CLAIM_SECONDS),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    )
    if not claimed:
        return None  # delivered, given up, deleted with its subject, or an attempt is running
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    body = delivery.payload.encode()
    headers = {
        webhooks.SIGNATURE_HEADER: webhooks.signature_header(delivery.webhook.secret, body),
        webhooks.DELIVERY_HEADER: str(delivery.pk),
        webhooks.EVENT_HEADER: delivery.event,
    }
    result = webhooks.post(delivery.webhook.url, body, headers, policy or webhooks.default_policy())
    _record_attempt(delivery, token, result)
    return result


def _record_attempt(delivery, token, result):
    now = timezone.now()
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, token=token, state=DeliveryState.PENDING)
    fields = {
        "last_status_code": result.status_code,
        "last_error": result.error,
        "claimed_until": None,
    }
    where = f"delivery {delivery.pk} ({delivery.event}, {delivery.webhook.describe()})"
    what = result.status_code or result.error
    if result.delivered:
        mine.update(
            state=DeliveryState.DELIVERED, delivered_at=now, token=None, next_attempt_at=None,
            **fields,
        )  # fmt: skip
        logger.info("webhook %s delivered on attempt %s", where, delivery.attempts)
    elif delivery.attempts >= settings.API_WEBHOOK_MAX_ATTEMPTS:
        mine.update(
            state=DeliveryState.FAILED, gave_up_at=now, token=None, next_attempt_at=None,
            **fields,
        )  # fmt: skip
        logger.warning(
            "webhook %s: gave up after %s attempts (last: %s)", where, delivery.attempts, what
        )
    else:
        delay = retry_delay(delivery.attempts)
        new_token = uuid.uuid4()
        with transaction.atomic():
            if mine.update(
                token=new_token, next_attempt_at=now + timedelta(seconds=delay), **fields
            ):
                _schedule(delivery.pk, new_token, delay)
        logger.info(
            "webhook %s: attempt %s failed (%s), next in %.1f s", where, delivery.attempts, what,
            delay,
        )  # fmt: skip


# --- Recovery ---------------------------------------------------------------------------------


def sweep(now=None, limit=500):
    """Send again the pending deliveries whose task is overdue (a lost message, a dead worker).

    Each gets a new token (compare-and-swap on the old one), so the lost message, should it turn
    up, does nothing. Returns how many were sent again.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.API_WEBHOOK_SWEEP_GRACE_SECONDS)
    overdue = (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lt=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", "token")[:limit]
    )
    count = 0
    for pk, token in list(overdue):
        new_token = uuid.uuid4()
        with transaction.atomic():
            matched = WebhookDelivery.objects.filter(
                pk=pk, token=token, state=DeliveryState.PENDING
            ).update(token=new_token, next_attempt_at=now, claimed_until=None)
            if matched:
                _schedule(pk, new_token, 0.0)
                count += 1
    return count
