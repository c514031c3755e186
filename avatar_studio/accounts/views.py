"""Sign up, log in (rate limited), account settings and account deletion.

Log out, password change and password reset are Django's own auth views; finishing a password
reset also makes the browser a known one (``devices``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from . import devices, ratelimit
from .deletion import delete_account
from .forms import DeleteAccountForm, RateLimitedAuthenticationForm, SignupForm

BACKEND = "avatar_studio.accounts.ratelimit.RateLimitedModelBackend"


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("avatars:upload")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend=BACKEND)
        return redirect("avatars:upload")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login view with the failed-login limits: locked out, it answers 429."""

    form_class = RateLimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked_out:
            response.status_code = 429
            response["Retry-After"] = str(form.paused_seconds)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; finishing a reset proves who the browser's user is, so it becomes a known
    browser of the account and its earlier failures there are forgotten (see ratelimit)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        ratelimit.forgive(self.request, form.user)
        devices.remember(self.request, form.user)
        return response


@login_required
@require_http_methods(["GET"])
def account(request):
    return render(
        request,
        "accounts/account.html",
        {
            "has_api_token": Token.objects.filter(user=request.user).exists(),
            "failed_retention_days": settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        delete_account(user)
        messages.success(
            request, "Your account, your avatars, your selfies and your API token are deleted."
        )
        return redirect("avatars:upload")
    return render(request, "accounts/account_delete.html", {"form": form})
