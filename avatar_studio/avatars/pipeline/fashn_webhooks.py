"""FASHN webhooks in: FASHN calls the submission's webhook_url when a prediction ends.

Nothing signs FASHN's webhooks, so the call is never trusted: its body is not even read. The
secret in the URL (new for every attempt) only picks the job whose status we then check at once,
through the same poll step as always. A call for an unknown or stale secret changes nothing.
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
    if job is None:
        # Unknown, or an earlier attempt's secret: 404 tells a prober nothing more.
        return JsonResponse({"status": "ignored"}, status=404)
    if not transitions.poll_now(job, token):
        # Already polling, or finished: there is nothing to bring forward.
        return JsonResponse({"status": "ignored"})
    return JsonResponse({"status": "checking"})
