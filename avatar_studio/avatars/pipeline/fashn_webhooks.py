"""FASHN webhooks in: FASHN calls the submission's webhook_url when a prediction ends.

Nothing signs FASHN's webhooks, so the call is never trusted: its body is not even read. The
secret in the URL (new for every attempt) only picks the job whose status we then check at once,
through the same poll step as always.

Only a call that brings a waiting poll forward gets 200. Every other one (an unknown secret, an
earlier attempt's, a finished or re-queued job's, a poll already running) changes nothing and
gets the same 404, so a secret tells whoever holds it nothing about its job. FASHN retries a
non-2xx call for a few minutes: if a running poll asked just before the prediction ended, the
retry brings the next poll forward.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import selectors
from . import transitions


@csrf_exempt  # called by FASHN's servers, with no session; the URL's secret is the credential
@require_POST
def receive(request, token):
    job = selectors.job_for_webhook(token)
    # poll_now is the compare-and-swap: the poll may have started since the lookup.
    if job is not None and transitions.poll_now(job, token):
        return JsonResponse({"status": "checking"})
    return JsonResponse({"status": "ignored"}, status=404)
