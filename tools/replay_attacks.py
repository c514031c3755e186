"""Replay the security review's attacks against a running `make run` stack and print what each got.

    make run                                  # in one terminal
    .venv/bin/python -m tools.replay_attacks  # in another; --base for another address

Everything goes to loopback. The tool sets up what an attack needs (a second user, a staff
account without permissions, an approved model) through the ORM of the same database `make run`
uses, then attacks over HTTP as an outsider, another user and staff would. It leaves those
accounts behind; `make run` is for development only. Its lock-out attack slows unknown browsers
at this address for a while (the counters live in `make run`'s Redis): run it once per stack.
The tests that replay the same attacks in CI are named in docs/RELIABILITY.md (Security).
"""

import argparse
import http.client
import io
import os
import re
import stat
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
ATTACK_BODY_BYTES = 400 * 1024 * 1024
PASSWORD = "replay-password-1"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_studio.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def csrf(session, base, path):
    page = session.get(base + path).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def log_in(base, username, password, session=None):
    session = session or requests.Session()
    token = csrf(session, base, "/accounts/login/")
    answer = session.post(
        base + "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
        allow_redirects=False,
    )
    return session, answer.status_code


def oversized_post(base, path, cookies="", content_type="multipart/form-data; boundary=x"):
    """Declare a 400 MB body, send its first megabyte, and read the answer: the server must refuse
    before it has the rest. Returns the status (0 if the server read on without answering)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(ATTACK_BODY_BYTES))
    connection.putheader("Cookie", cookies)
    connection.putheader("Referer", base + path)
    connection.endheaders()
    try:
        connection.send(
            b'--x\r\nContent-Disposition: form-data; name="face_image"; '
            b'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        connection.send(b"\0" * (1024 * 1024))
    except OSError:
        pass  # the server answered and closed early: read what it said
    try:
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def big_temp_files(folder, limit):
    return [p for p in Path(folder).iterdir() if p.is_file() and p.stat().st_size > limit]


def upload_and_wait(base, session):
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG")
    token = csrf(session, base, "/")
    answer = session.post(
        base + "/",
        data={
            "csrfmiddlewaretoken": token,
            "aspect_ratio": "2:3",
            "output_format": "jpeg",
            "seed": "42",
            "consent": "on",
        },
        files={"face_image": ("me.jpg", buffer.getvalue(), "image/jpeg")},
        headers={"Referer": base + "/"},
    )
    job_id = answer.url.rstrip("/").rsplit("/", 1)[-1]
    for _ in range(90):
        status = session.get(f"{base}/avatars/{job_id}/status/").json()["status"]
        if status in ("completed", "failed"):
            return job_id, status
        time.sleep(1)
    return job_id, status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from avatar_studio.avatars.models import AvatarJob
    from avatar_studio.avatars.review import services as review
    from avatar_studio.core.addresses import is_public_address
    from avatar_studio.core.management.commands.runstack import DEMO_PASSWORD, DEMO_USERNAME
    from avatar_studio.shop.catalogue import DEMO_GARMENTS

    rows = []

    def record(finding, attack, got, held):
        rows.append((finding, attack, got, "held" if held else "DID NOT HOLD"))

    users = get_user_model().objects
    suffix = uuid.uuid4().hex[:6]
    bob = users.create_user(f"replay-bob-{suffix}", f"bob-{suffix}@example.com", PASSWORD)
    bare_staff = users.create_user(f"replay-staff-{suffix}", password=PASSWORD, is_staff=True)
    demo = users.get(username=DEMO_USERNAME)
    # Everyone logs in first, from browsers that then count as known: the lock-out attack at the
    # end slows every unknown browser at this address, as it should.
    demo_session, _ = log_in(base, DEMO_USERNAME, DEMO_PASSWORD)
    staff_session, _ = log_in(base, bare_staff.username, PASSWORD)
    bob_session, _ = log_in(base, bob.username, PASSWORD)

    # 1. Unbounded bodies, anonymous and logged in.
    temp = os.environ.get("TMPDIR", "/tmp")
    cap = settings.REQUEST_MAX_BODY_BYTES
    anonymous = requests.Session()
    csrf(anonymous, base, "/accounts/login/")  # the csrftoken cookie the attack sends
    status = oversized_post(base, "/accounts/login/", f"csrftoken={anonymous.cookies['csrftoken']}")
    record(1, "anonymous POST /accounts/login/, 400 MB", status, status == 413)
    cookies = "; ".join(f"{k}={v}" for k, v in demo_session.cookies.items())
    status = oversized_post(base, "/", cookies)
    record(1, "logged-in POST /, 400 MB", status, status == 413)
    left = big_temp_files(temp, cap)
    record(1, f"files over the cap left in {temp}", len(left), not left)

    # 2. Staff without permissions read another user's private files.
    job_id, _status = upload_and_wait(base, demo_session)
    for path in (f"/avatars/{job_id}/", f"/avatars/{job_id}/results/0/"):
        got = staff_session.get(base + path).status_code
        record(2, f"staff without permissions GET {path[:18]}…{path[-11:]}", got, got == 404)

    # 3. A try-on of one's own avatar, after the avatar is approved as a model.
    result_id = AvatarJob.objects.get(pk=job_id).results.get(index=0).pk
    slug = DEMO_GARMENTS[0].slug
    token = csrf(demo_session, base, f"/shop/products/{slug}/")
    answer = demo_session.post(
        f"{base}/shop/products/{slug}/try-on/",
        data={"csrfmiddlewaretoken": token, "avatar": result_id},
        headers={"Referer": base},
        allow_redirects=False,
    )
    look = re.search(r"look=([0-9a-f-]{36})", answer.headers.get("Location", "")).group(1)
    job = AvatarJob.objects.get(pk=job_id)
    review.offer_for_display(job)
    review.approve(job, reviewer=users.filter(is_superuser=True).first() or bare_staff)
    got = bob_session.get(f"{base}/shop/looks/{look}/image/").status_code
    record(3, "another user opens the owner's look (by its UUID)", got, got == 404)
    got = bob_session.get(f"{base}/shop/looks/1/").status_code
    record(3, "another user guesses a sequential look id", got, got == 404)

    # 4. IPv6 forms of loopback and special addresses (checked, never connected to).
    forms = ["::7f00:1", "64:ff9b::7f00:1", "2002:7f00:1::", "::ffff:0:7f00:1", "192.0.0.8"]
    passed = [address for address in forms if is_public_address(address)]
    record(4, "is_public_address on " + ", ".join(forms), passed or "all refused", not passed)

    # 5. Enumeration and flooding.
    pages = []
    for email in (demo.email or "demo@example.com", f"nobody-{suffix}@example.com"):
        session = requests.Session()
        token = csrf(session, base, "/accounts/signup/")
        answer = session.post(
            base + "/accounts/signup/",
            data={"csrfmiddlewaretoken": token, "email": email},
            headers={"Referer": base},
        )
        pages.append((answer.status_code, answer.url))
    same = pages[0] == pages[1]
    record(5, "sign-up with a taken and a free email", "the same page" if same else pages, same)
    statuses = []
    for _ in range(16):
        session = requests.Session()
        token = csrf(session, base, "/accounts/password_reset/")
        statuses.append(
            session.post(
                base + "/accounts/password_reset/",
                data={"csrfmiddlewaretoken": token, "email": bob.email},
                headers={"Referer": base},
                allow_redirects=False,
            ).status_code
        )
    record(
        5,
        "16 password resets to one address",
        f"{statuses.count(302)} sent, {statuses.count(429)} refused (429)",
        statuses.count(429) >= 12,
    )

    # 6. A stranger hammers the demo account; the owner's known browser still gets in.
    stranger = requests.Session()
    answers = [log_in(base, DEMO_USERNAME, "wrong-password", stranger)[1] for _ in range(50)]
    record(
        6,
        "50 wrong passwords from a stranger",
        f"{answers.count(429)} paused (429)",
        answers.count(429) > 0,
    )
    demo_session.get(base + "/accounts/login/")  # the known-browser cookie is kept
    demo_session.cookies.pop("sessionid", None)
    _, got = log_in(base, DEMO_USERNAME, DEMO_PASSWORD, demo_session)
    record(6, "then the owner logs in from their known browser", got, got == 302)

    # 7. Leftovers: file modes, the demo account, finished jobs' webhook secrets.
    database = Path(settings.DATABASES["default"]["NAME"])
    modes = {database.name: oct(stat.S_IMODE(database.stat().st_mode))}
    result = AvatarJob.objects.get(pk=job_id).results.get(index=0)
    image = Path(settings.MEDIA_ROOT) / result.image.name
    modes[image.name] = oct(stat.S_IMODE(image.stat().st_mode))
    record(7, "file modes", modes, set(modes.values()) == {"0o600"})
    demo.refresh_from_db()
    record(
        7,
        "demo account is staff / superuser",
        (demo.is_staff, demo.is_superuser),
        not (demo.is_staff or demo.is_superuser),
    )
    finished = AvatarJob.objects.exclude(webhook_token=None).filter(status="completed").first()
    answers = []
    for secret in (getattr(finished, "webhook_token", "") or "none", "unknown-" + suffix):
        answer = requests.post(f"{base}/fashn/webhook/{secret}/")
        answers.append((answer.status_code, answer.text))
    record(
        7,
        "finished job's webhook secret vs an unknown one",
        [a[0] for a in answers],
        answers[0] == answers[1],
    )

    width = max(len(row[1]) for row in rows)
    for finding, attack, got, verdict in rows:
        print(f"{finding}  {attack:<{width}}  {str(got):<40}  {verdict}")
    return 0 if all(row[3] == "held" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
