"""Sign up, log in (rate limited), password reset, account settings and account deletion.

Sign-up and password reset never tell whether an account exists (``services``); log out and
password change are Django's own auth views, and finishing a password reset also makes the
browser a known one (``devices``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import devices, ratelimit, services
from .deletion import delete_account
from .export import export_data, export_filename
from .forms import (
    DeleteAccountForm,
    FinishSignupForm,
    PasswordResetRequestForm,
    RateLimitedAuthenticationForm,
    SignupForm,
)
from .throttle import Limited

BACKEND = "avatar_studio.accounts.ratelimit.RateLimitedModelBackend"


def _limited(request, template, form, limited, **context):
    """The form again, saying why nothing was done and when to try again (HTTP 429)."""
    context = {"form": form, "limited": limited.message, **context}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


def _asked_by(request):
    return {"address": ratelimit.client_address(request), "origin": services.Origin.of(request)}


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("avatars:upload")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_signup_link(form.cleaned_data["email"], **_asked_by(request))
        except Limited as limited:
            return _limited(request, "accounts/signup.html", form, limited)
        return redirect("signup-sent")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET"])
def signup_sent(request):
    hours = max(1, settings.SIGNUP_LINK_MAX_AGE_SECONDS // 3600)
    return render(request, "accounts/signup_sent.html", {"hours": hours})


@require_http_methods(["GET", "POST"])
def signup_finish(request, token):
    template = "accounts/signup_finish.html"
    email = services.signup_email(token)
    if email is None:
        return render(request, template, {"validlink": False})
    if services.account_exists(email):
        return render(request, template, {"validlink": False, "used": True})
    form = FinishSignupForm(email, request.POST or None)
    if request.method == "POST":
        address = ratelimit.client_address(request)
        try:
            user = services.finish_signup(form, address=address)
        except Limited as limited:
            # A form that was not validated: validating would say whether the username is taken.
            form = FinishSignupForm(email, initial={"username": request.POST.get("username")})
            return _limited(request, template, form, limited, validlink=True, email=email)
        if user is not None:
            login(request, user, backend=BACKEND)
            return redirect("avatars:upload")
    return render(request, template, {"validlink": True, "form": form, "email": email})


@require_http_methods(["GET", "POST"])
def password_reset(request):
    template = "registration/password_reset_form.html"
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_password_reset(form.cleaned_data["email"], **_asked_by(request))
        except Limited as limited:
            return _limited(request, template, form, limited)
        return redirect("password_reset_done")
    return render(request, template, {"form": form})


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


def _account_page(request, issued=None):
    return render(
        request,
        "accounts/account.html",
        {
            "api_token": services.api_token_of(request.user),
            "issued_token": issued,
            "failed_retention_days": settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS,
        },
    )


@login_required
@require_http_methods(["GET"])
def account(request):
    return _account_page(request)


@login_required
@require_POST
@never_cache
def api_token_create(request):
    """The account page with the new key on it: this answer is the only place it is ever shown,
    so it is rendered here rather than redirected to (and kept out of every cache)."""
    issued = services.create_api_token(request.user)
    if issued.replaced:
        messages.success(request, "Your new API token replaces the old one, which no longer works.")
    else:
        messages.success(request, "Your API token is ready.")
    messages.warning(request, "Copy it now: it will not be shown again.")
    return _account_page(request, issued)


@login_required
@require_POST
def api_token_revoke(request):
    if services.revoke_api_token(request.user):
        messages.success(
            request,
            "Your API token is revoked: requests that use it are refused from now on. "
            "Create a new one when you need it.",
        )
    else:
        messages.info(request, "You had no API token, so there was nothing to revoke.")
    return redirect("account")


@login_required
@require_POST
def data_export(request):
    """The user's data as a zip download; POST only, so a link or an image cannot start one."""
    try:
        archive = export_data(request.user)
    except Limited as limited:
        messages.error(request, limited.message)
        response = _account_page(request)
        response.status_code = 429
        response["Retry-After"] = str(limited.retry_after)
        return response
    response = FileResponse(
        archive, as_attachment=True, filename=export_filename(), content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


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
