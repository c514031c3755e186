"""Failed logins slow whoever makes them, and never lock the owner out of their own account.

The attack of the security review: five to ten wrong passwords from anywhere locked an account
for 15 minutes, and 20 from one address blocked the admin's own login. Now failures count per
account and client address (or per known browser), with delays that grow (1, 2, 4 … minutes,
capped), and the caps across accounts and across addresses spare a browser that has logged into
the account before.
"""

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.urls import reverse

from ..accounts.pages import visible_text

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
STRANGER = "203.0.113.5"
HOME = "198.51.100.7"


def _login(client, username, password, address=STRANGER, url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client):
    return "_auth_user_id" in client.session


def _paused(response):
    return response.status_code == 429 and "Too many failed log-in attempts" in visible_text(
        response
    )


def _wrong(response):
    return response.status_code == 200 and "Please enter a correct username and password" in (
        visible_text(response)
    )


def _known_browser(username, password, address=HOME, url=LOGIN):
    """A browser its owner has logged in with once, then logged out of."""
    browser = Client()
    assert _login(browser, username, password, address, url).status_code == 302
    browser.post(reverse("logout"))
    return browser


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURES_BEFORE_DELAY = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    settings.LOGIN_DELAY_SECONDS = 60
    settings.LOGIN_MAX_DELAY_SECONDS = 900
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 3600


@pytest.fixture
def eager_tasks():
    from avatar_studio import celery_app

    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def clock(monkeypatch):
    from avatar_studio.accounts import ratelimit

    clock = Clock(ratelimit._now())
    monkeypatch.setattr(ratelimit, "_now", clock)
    return clock


# --- The attack --------------------------------------------------------------------------------


def test_a_strangers_50_wrong_passwords_do_not_stop_the_owner(alice):
    owner = _known_browser("alice", "alice-password-1")

    stranger = Client()
    answers = [_login(stranger, "alice", f"guess-{n}") for n in range(50)]

    response = _login(owner, "alice", "alice-password-1", HOME)
    assert response.status_code == 302 and _logged_in(owner)

    assert all(_wrong(answer) for answer in answers[:5])
    assert all(_paused(answer) for answer in answers[5:])  # the stranger is slowed
    assert "Try again in 1 minute" in visible_text(answers[-1])
    assert _paused(_login(stranger, "alice", "alice-password-1"))  # even with the password


def test_the_admins_own_login_survives_a_stranger_hammering_it(admin_user):
    url = reverse("admin:login")
    admin = _known_browser("admin", "password", url=url)

    stranger = Client()
    for n in range(60):
        _login(stranger, "admin", f"guess-{n}", url=url)
    for n in range(20):
        _login(stranger, f"nobody-{n}", "guess", url=url)
    assert "Too many failed log-in attempts" in visible_text(
        _login(stranger, "admin", "password", url=url)
    )

    response = _login(admin, "admin", "password", HOME, url=url)
    assert response.status_code == 302 and _logged_in(admin)


def test_an_owners_known_browser_passes_the_cap_of_an_address_spraying_many_accounts(alice, bob):
    # Alice logged in from this browser, behind the same address as the sprayer.
    alice_browser = _known_browser("alice", "alice-password-1", STRANGER)
    sprayer = Client()
    for n in range(20):
        _login(sprayer, f"nobody-{n}", "guess")

    assert _paused(_login(sprayer, "bob", "bob-password-1"))  # a new account from it waits
    assert _paused(_login(Client(), "bob", "bob-password-1"))  # so does any unknown browser
    assert _login(alice_browser, "alice", "alice-password-1").status_code == 302
    elsewhere = Client()
    assert _login(elsewhere, "bob", "bob-password-1", HOME).status_code == 302


def test_guessing_one_account_from_many_addresses_slows_unknown_browsers_only(alice, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 10
    owner = _known_browser("alice", "alice-password-1")
    for n in range(30):
        _login(Client(), "alice", f"guess-{n}", address=f"10.0.{n}.1")

    new_browser = Client()
    assert _paused(_login(new_browser, "alice", "alice-password-1", "192.0.2.44"))
    assert _login(owner, "alice", "alice-password-1", HOME).status_code == 302


def test_a_password_reset_makes_its_browser_known(
    alice, settings, eager_tasks, django_capture_on_commit_callbacks
):
    from django.core import mail

    from ..accounts.pages import link_in

    settings.LOGIN_FAILURES_PER_ACCOUNT = 10
    alice.email = "alice@example.com"
    alice.save()
    for n in range(30):
        _login(Client(), "alice", f"guess-{n}", address=f"10.0.{n}.1")
    new_browser = Client()
    assert _paused(_login(new_browser, "alice", "alice-password-1", "192.0.2.44"))

    with django_capture_on_commit_callbacks(execute=True):
        new_browser.post(reverse("password_reset"), {"email": "alice@example.com"})
    form_page = new_browser.get(link_in(mail.outbox[0]), follow=True)
    new_browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-Long-pass-9", "new_password2": "another-Long-pass-9"},
    )

    response = _login(new_browser, "alice", "another-Long-pass-9", "192.0.2.44")
    assert response.status_code == 302 and _logged_in(new_browser)


# --- How the delays behave ---------------------------------------------------------------------


def test_the_delays_grow_one_attempt_at_a_time_and_are_capped(alice, clock):
    browser = Client()
    for _ in range(5):
        assert _wrong(_login(browser, "alice", "wrong"))

    for minutes in (1, 2, 4, 8, 15, 15):
        paused = _login(browser, "alice", "alice-password-1")
        assert _paused(paused)
        assert f"Try again in {minutes} minute" in visible_text(paused)
        assert int(paused["Retry-After"]) == minutes * 60
        clock.now += minutes * 60 - 1
        assert _paused(_login(browser, "alice", "wrong"))  # not yet
        clock.now += 1
        assert _wrong(_login(browser, "alice", "wrong"))  # one attempt when the delay ends

    clock.now += 15 * 60
    assert _login(browser, "alice", "alice-password-1").status_code == 302
    browser.post(reverse("logout"))
    # A success clears the pair's failures: the next typo is only a typo.
    assert _wrong(_login(browser, "alice", "wrong"))


def test_the_owners_own_typos_pause_only_the_browser_they_came_from(alice):
    owner = _known_browser("alice", "alice-password-1")
    for _ in range(5):
        _login(owner, "alice", "wrong", HOME)

    assert _paused(_login(owner, "alice", "alice-password-1", HOME))
    other = Client()
    assert _login(other, "alice", "alice-password-1", "192.0.2.44").status_code == 302


def test_attempts_count_before_the_password_is_checked(alice):
    # Guesses sent in parallel all start before any has failed: each is counted as it starts,
    # so the sixth is refused even though none of the first five has finished.
    from avatar_studio.accounts import ratelimit

    request = RequestFactory().post(LOGIN, REMOTE_ADDR=STRANGER)
    for _ in range(5):
        ratelimit.begin_attempt(request, "alice")
    with pytest.raises(ratelimit.LoginPaused):
        ratelimit.begin_attempt(request, "alice")


def test_other_accounts_are_not_affected(alice, bob):
    for _ in range(5):
        _login(Client(), "alice", "wrong")

    browser = Client()
    assert _login(browser, "bob", "bob-password-1").status_code == 302


def test_a_known_browser_of_another_account_or_a_forged_cookie_earns_nothing(alice, bob):
    stranger = _known_browser("bob", "bob-password-1", STRANGER)  # the stranger's own account
    stranger.cookies["login_device"] = stranger.cookies["login_device"].value + "x"
    for _ in range(5):
        _login(stranger, "alice", "wrong")
    assert _paused(_login(stranger, "alice", "alice-password-1"))

    honest = _known_browser("bob", "bob-password-1", STRANGER)
    for _ in range(5):
        _login(honest, "alice", "wrong", "192.0.2.44")
    assert _paused(_login(honest, "alice", "alice-password-1", "192.0.2.44"))


def test_every_path_through_authenticate_is_limited(alice):
    for _ in range(5):
        _login(Client(), "alice", "wrong")

    request = RequestFactory().post(LOGIN, REMOTE_ADDR=STRANGER)
    assert authenticate(request, username="alice", password="alice-password-1") is None
    elsewhere = RequestFactory().post(LOGIN, REMOTE_ADDR=HOME)
    assert authenticate(elsewhere, username="alice", password="alice-password-1") == alice


def test_the_address_comes_from_the_configured_proxy_header(client, bob, settings):
    settings.LOGIN_CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    for number in range(20):
        client.post(
            LOGIN,
            {"username": f"nobody-{number}", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_REAL_IP="203.0.113.9",
        )

    other_client_same_proxy = Client().post(
        LOGIN,
        {"username": "bob", "password": "bob-password-1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_REAL_IP="203.0.113.10",
    )

    assert other_client_same_proxy.status_code == 302


def test_the_login_form_still_needs_its_csrf_token(alice):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 403
