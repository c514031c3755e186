"""Sign-up and password reset tell nobody whether an account exists, and cannot flood a mailbox.

The attacks of the security review: sign-up said "An account with this email exists" and "A user
with that username already exists"; password reset sent its mail during the request (slower for
a known address) and neither had a rate limit (16 reset mails to one address in about a second).
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from .pages import link_in, visible_text

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-7"
SIGNUP = reverse("signup")
RESET = reverse("password_reset")


@pytest.fixture
def dana(django_user_model):
    return django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)


@pytest.fixture
def limits(settings):
    settings.ACCOUNT_REQUESTS_PER_ADDRESS = 3
    settings.ACCOUNT_REQUESTS_PER_EMAIL = 2
    settings.ACCOUNT_REQUEST_WINDOW_SECONDS = 3600
    return settings


def _sign_up(client, username, email, address="203.0.113.5"):
    # Everything the old one-page form asked for: the new first step reads the email alone.
    return client.post(
        SIGNUP,
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR=address,
        follow=True,
    )


def _reset(client, email, address="203.0.113.5"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address, follow=True)


def _same_answer(first, second):
    assert first.status_code == second.status_code == 200
    assert [url for url, _ in first.redirect_chain] == [url for url, _ in second.redirect_chain]
    assert visible_text(first) == visible_text(second)


# --- Sign-up --------------------------------------------------------------------------------


def test_sign_up_answers_the_same_for_a_taken_and_a_free_email_and_username(dana):
    taken = _sign_up(Client(), "dana", "DANA@example.com")
    free = _sign_up(Client(), "erin", "erin@example.com")

    _same_answer(taken, free)
    assert "exists" not in visible_text(taken)
    assert "Check your email" in visible_text(taken)
    assert "_auth_user_id" not in free.client.session  # nobody is signed up before the link
    assert get_user_model().objects.count() == 1


def test_the_sign_up_request_sends_nothing_itself_and_does_the_same_work_either_way(
    dana, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as taken_callbacks:
        _sign_up(Client(), "x", "dana@example.com")
    with django_capture_on_commit_callbacks() as free_callbacks:
        _sign_up(Client(), "y", "erin@example.com")

    assert mail.outbox == []
    assert len(taken_callbacks) == len(free_callbacks) == 1  # one mail task each, after commit


def test_a_free_email_gets_a_link_to_finish_signing_up(
    client, dana, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up(client, "", "erin@example.com")

    assert [m.to for m in mail.outbox] == [["erin@example.com"]]
    page = client.get(link_in(mail.outbox[0]))
    assert "erin@example.com" in visible_text(page)

    # The person who opened the link is told a username is taken: they must choose another.
    taken = client.post(
        page.request["PATH_INFO"],
        {"username": "DANA", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "That username is taken" in visible_text(taken)
    assert "dana@example.com" not in visible_text(taken)

    done = client.post(
        page.request["PATH_INFO"],
        {"username": "erin", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == reverse("avatars:upload")
    user = get_user_model().objects.get(username="erin")
    assert user.email == "erin@example.com" and user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    # The link made its account: it cannot make another.
    assert "already has an account" in visible_text(client.get(page.request["PATH_INFO"]))


def test_a_taken_email_gets_a_reminder_of_its_account_and_no_link(
    dana, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up(Client(), "someone", "Dana@Example.com")

    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert "already has an Avatar Studio account" in message.body
    assert '"dana"' in message.body
    assert reverse("login") in message.body and reverse("password_reset") in message.body
    assert "/accounts/signup/" not in message.body


def test_a_forged_or_expired_sign_up_link_does_not_work(client, settings, monkeypatch):
    import time

    from django.core import signing

    from avatar_studio.accounts.services import signup_token

    forged = client.get(reverse("signup-finish", args=["not-a-token"]))
    assert "This link does not work" in visible_text(forged)

    with monkeypatch.context() as past:  # a link made longer ago than it lasts
        made = time.time() - settings.SIGNUP_LINK_MAX_AGE_SECONDS - 60
        past.setattr(signing.time, "time", lambda: made)
        token = signup_token("erin@example.com")
    assert "This link does not work" in visible_text(
        client.get(reverse("signup-finish", args=[token]))
    )


# --- Password reset ---------------------------------------------------------------------------


def test_password_reset_answers_the_same_for_a_known_and_an_unknown_email(
    dana, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as known_callbacks:
        known = _reset(Client(), "dana@example.com")
    with django_capture_on_commit_callbacks() as unknown_callbacks:
        unknown = _reset(Client(), "nobody@example.com")

    _same_answer(known, unknown)
    assert "Check your email" in visible_text(known)
    # The request does the same work either way: no mail sent during it, one task after commit.
    assert mail.outbox == []
    assert len(known_callbacks) == len(unknown_callbacks) == 1


def test_password_reset_mails_only_a_known_address(
    dana, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _reset(Client(), "nobody@example.com")
        _reset(Client(), "DANA@example.com")

    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "Reset your Avatar Studio password"


# --- Rate limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,words",
    [(SIGNUP, "Too many sign-up requests"), (RESET, "Too many password reset requests")],
)
def test_one_address_is_limited(limits, url, words, django_capture_on_commit_callbacks):
    client = Client()
    for number in range(3):
        response = client.post(url, {"email": f"p{number}@example.com"}, REMOTE_ADDR="203.0.113.5")
        assert response.status_code == 302

    with django_capture_on_commit_callbacks() as callbacks:
        refused = client.post(url, {"email": "p9@example.com"}, REMOTE_ADDR="203.0.113.5")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    page = visible_text(refused)
    assert words in page and "Try again in" in page and "minute" in page
    assert callbacks == []  # no mail
    elsewhere = client.post(url, {"email": "p9@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 302


@pytest.mark.parametrize("url", [SIGNUP, RESET])
def test_one_email_address_is_limited_from_any_address(
    limits, dana, url, django_capture_on_commit_callbacks
):
    for number in range(2):
        response = Client().post(url, {"email": "dana@example.com"}, REMOTE_ADDR=f"10.0.0.{number}")
        assert response.status_code == 302

    with django_capture_on_commit_callbacks() as callbacks:
        refused = Client().post(url, {"email": "DANA@example.com"}, REMOTE_ADDR="10.0.0.9")
        unknown = Client().post(url, {"email": "nobody@example.com"}, REMOTE_ADDR="10.0.0.9")

    assert refused.status_code == 429 and "Try again in" in visible_text(refused)
    assert unknown.status_code == 302
    assert len(callbacks) == 1  # the other address's mail only


def test_the_limit_ends_when_its_window_does(limits, monkeypatch):
    from avatar_studio.accounts import throttle

    client = Client()
    for number in range(4):
        last = client.post(RESET, {"email": f"p{number}@example.com"}, REMOTE_ADDR="203.0.113.5")
    assert last.status_code == 429
    wait = int(last["Retry-After"])

    now = throttle._now()
    monkeypatch.setattr(throttle, "_now", lambda: now + wait)

    again = client.post(RESET, {"email": "p9@example.com"}, REMOTE_ADDR="203.0.113.5")
    assert again.status_code == 302


def test_a_limited_answer_says_the_same_for_a_known_and_an_unknown_email(limits, dana):
    for number in range(3):
        Client().post(RESET, {"email": f"p{number}@example.com"}, REMOTE_ADDR="203.0.113.5")

    known = Client().post(RESET, {"email": "dana@example.com"}, REMOTE_ADDR="203.0.113.5")
    unknown = Client().post(RESET, {"email": "nobody@example.com"}, REMOTE_ADDR="203.0.113.5")

    assert known.status_code == unknown.status_code == 429
    assert visible_text(known) == visible_text(unknown)


def test_choosing_usernames_behind_one_link_is_limited(limits, dana):
    from avatar_studio.accounts.services import signup_token

    link = reverse("signup-finish", args=[signup_token("erin@example.com")])
    client = Client()
    for name in ("dana", "DANA"):
        answer = client.post(
            link,
            {"username": name, "password1": PASSWORD, "password2": PASSWORD},
            REMOTE_ADDR=f"10.0.0.{len(name)}",
        )
        assert answer.status_code == 200

    # The link's email address is the target: a third try from anywhere waits.
    refused = Client().post(
        link,
        {"username": "dana", "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR="10.0.0.99",
    )
    assert refused.status_code == 429
    assert "Too many attempts to finish signing up" in visible_text(refused)
    assert "taken" not in visible_text(refused)
