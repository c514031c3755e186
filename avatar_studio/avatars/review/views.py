"""The owner's side of public display: offer a completed avatar for review, or withdraw it.

Only the owner may do either (anyone else gets 404, as everywhere). Withdrawing takes effect at
once: public pages read through ``selectors.approved_public_avatars()`` on every request.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from .. import selectors
from ..refusals import Refused
from . import services


@login_required
@require_POST
def showcase_offer(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    try:
        services.offer_for_display(job)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            "Thank you. Our staff will look at it; until they approve it, only you can see it.",
        )
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_POST
def showcase_withdraw(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    try:
        services.withdraw_from_display(job)
    except Refused as refusal:
        messages.info(request, refusal.message)
    else:
        messages.success(
            request,
            "Done: this avatar is private again. It is gone from the showcase, the examples on "
            "the home page and in the store, and the store's models.",
        )
    return redirect("avatars:job", job_id=job.pk)
