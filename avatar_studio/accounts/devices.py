"""Known browsers: the ones that have logged into an account before, named in a signed cookie.

At every successful login (our login page, the admin's, finishing sign-up) and when a password
reset is finished, the browser gets the ``login_device`` cookie: a random id of its own and the
digests of the accounts that logged in from it (newest first, at most ``MAX_ACCOUNTS``), signed
with the secret key, kept ``LOGIN_KNOWN_DEVICE_DAYS``. The login limits (``ratelimit``) count a
known browser's failures on their own, so nobody else's failures ever slow it. The cookie holds
no username, only keyed digests that mean nothing without the secret key; it survives logging
out, which is its point.
"""

import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

COOKIE = "login_device"
_SALT = "avatar_studio.accounts.devices"
MAX_ACCOUNTS = 10


def account_digest(username):
    """A keyed digest of a username, as the login limits and the cookie name an account."""
    key = (username or "").strip().lower()
    return salted_hmac("avatar_studio.accounts.account", key).hexdigest()[:32]


def _max_age():
    return settings.LOGIN_KNOWN_DEVICE_DAYS * 24 * 60 * 60


def _read(request):
    """(device id, account digests) from the request's cookie; (None, []) without a valid one."""
    if request is None or not hasattr(request, "get_signed_cookie"):
        return None, []
    value = request.get_signed_cookie(COOKIE, default=None, salt=_SALT, max_age=_max_age())
    if not value:
        return None, []
    device, _, accounts = value.partition(":")
    return device or None, [account for account in accounts.split(",") if account]


def known_device(request, username):
    """This browser's id if it has logged into the account before, else None."""
    device, accounts = _read(request)
    return device if device and account_digest(username) in accounts else None


def remember(request, user):
    """Make this request's browser known for ``user``; the middleware writes the cookie."""
    if request is not None:
        request.known_device_account = account_digest(user.get_username())


class KnownDeviceMiddleware:
    """Writes the ``login_device`` cookie on the response of a request that logged someone in.

    A middleware because the admin's login view is Django's, and only the response can carry a
    cookie; ``remember`` (called from the ``user_logged_in`` receiver) marks the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        account = getattr(request, "known_device_account", None)
        if account:
            device, accounts = _read(request)
            accounts = [account, *(known for known in accounts if known != account)]
            response.set_signed_cookie(
                COOKIE,
                f"{device or secrets.token_urlsafe(12)}:{','.join(accounts[:MAX_ACCOUNTS])}",
                salt=_SALT,
                max_age=_max_age(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
