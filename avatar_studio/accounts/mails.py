"""The mails of sign-up and password reset, sent by the worker (``tasks``).

Here, not in the request, is where an address is looked up: the request that asked does the
same work whether or not an account uses the address, and only the mailbox learns which.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .links import signup_token


def _site(domain, use_https):
    return {"protocol": "https" if use_https else "http", "domain": domain}


def send_signup_mail(email, domain, use_https):
    """A link to finish signing up; for an address that has an account, a reminder of it."""
    accounts = list(get_user_model()._default_manager.filter(email__iexact=email))
    context = _site(domain, use_https)
    if accounts:
        context |= {
            "usernames": [account.get_username() for account in accounts],
            "login_path": reverse("login"),
            "reset_path": reverse("password_reset"),
        }
        subject, body = "Your Avatar Studio account", "accounts/signup_exists_email.txt"
        email = accounts[0].email
    else:
        context |= {
            "link_path": reverse("signup-finish", args=[signup_token(email)]),
            "hours": max(1, settings.SIGNUP_LINK_MAX_AGE_SECONDS // 3600),
        }
        subject, body = "Finish signing up to Avatar Studio", "accounts/signup_email.txt"
    send_mail(subject, render_to_string(body, context), None, [email])


def send_password_reset_mail(email, domain, use_https):
    """Django's reset mail to every active account of the address; nothing if there is none."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https)
