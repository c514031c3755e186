"""FASHN webhooks in: FASHN calls the submission's webhook_url when a prediction ends.

Nothing signs FASHN's webhooks, so the call is never trusted: its body is not even read. The
secret in the URL (new for every attempt) only picks the job whose status we then check at once,
through the same poll step as always. A call for an unknown or stale secret changes nothing.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services


@csrf_exempt  # called by FASHN's servers, with no session; the URL's secret is the credential
@require_POST
def receive(request, token):
    if not services.poll_now(token):
        # Unknown secret, or the job is not waiting for a poll (already polling, or finished):
        # either way there is nothing to bring forward. 404 tells a prober nothing more.
        known = services.webhook_token_exists(token)
        return JsonResponse({"status": "ignored"}, status=200 if known else 404)
    return JsonResponse({"status": "checking"})
