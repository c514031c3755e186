"""Every page of the flow against axe-core's WCAG 2.1 A and AA rules in Chromium, at desktop size
(where Tab also shows the focus at every stop), at phone size and at 320 px (with no sideways
scrolling); an avatar made, and one picked in the store, with the keyboard alone; the focus in
forced colours; a screen reader told when a job's panel changes state.

axe-core comes from the npm registry at the version package-lock.json pins (``make test`` runs
``npm ci``). A failure lists each rule broken, its impact, the elements and the help, so it says
what to fix; results axe leaves to a person count as failures unless a person has checked them
(``_reviewed``).

To check a new page, add a line to PAGES: a name, who looks at it (None: a visitor, else a key of
``people``) and a function from the ``world`` (the users, jobs and links below) to its path.
"""

import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image, ImageOps
from playwright.sync_api import expect

from avatar_studio.accounts.links import signup_token
from avatar_studio.avatars import sharing
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt, result_path
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.outputs import StoredOutput
from avatar_studio.avatars.review import services as review
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Look, Product
from avatar_studio.shop.selectors import product_for_tryon

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_store")]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
NARROWEST = 320  # CSS pixels a page must fit without sideways scrolling (WCAG 1.4.10)


class Page(NamedTuple):
    """A page to check: its name, who looks at it (None: a visitor, else a key of the world's
    ``people``), its path (a function of the world), and what to do there before checking (None:
    nothing; ``submit``: send its form as it is, to check the page showing the form's errors)."""

    name: str
    who: str | None
    path: Callable[[dict], str]
    then: Callable | None = None


def submit(page):
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    expect(page.locator("[aria-invalid=true], .form-errors, .field-error").first).to_be_visible()


def wrong_password(page):
    page.fill("#id_username", "alice")
    page.fill("#id_password", "not-her-password")
    submit(page)


def passwords_differ(page):
    page.fill("[name$=password1]", "a-long-Passphrase-7")
    page.fill("[name$=password2]", "a-long-Passphrase-8")
    submit(page)


def create_api_token(page):
    page.locator("form[action$='/api-token/'] button").click()
    page.wait_for_load_state("load")
    expect(page.locator("#new-api-token")).to_be_visible()


def _job(key):
    return lambda w: reverse("avatars:job", args=[w[key].pk])


def _look(look):
    product = product_for_tryon(look.tryon)
    return reverse("shop:product", args=[product.slug]) + f"?look={look.pk}"


def _embed_window(w, key=None):
    """The window a shop's button opens (the shop made here on first use). The garment's host is
    a public address literal: checked without DNS, and nothing connects to it unless posted."""
    shop = w.get("embed_shop") or Shop.objects.create(
        name="Corner Boutique", allowed_origins="https://shop.example"
    )
    w["embed_shop"] = shop
    query = urlencode(
        {
            "key": key or shop.key,
            "origin": "https://shop.example",
            "garment_image": "https://93.184.215.14/linen-shirt.png",
            "name": "Linen shirt",
            "category": "tops",
        }
    )
    return f"{reverse('embed:try')}?{query}"


def _embed_look(look_key):
    def path(w):
        _embed_window(w)
        embed_look = EmbedLook.objects.create(
            look=w[look_key], shop=w["embed_shop"], origin="https://shop.example",
            garment_name="Linen shirt",
        )  # fmt: skip
        return reverse("embed:look", args=[embed_look.pk])

    return path


# "alice" has avatars of every kind, "newcomer" has none.
PAGES = [
    Page("landing", None, lambda w: reverse("avatars:upload")),
    Page("signup", None, lambda w: reverse("signup")),
    Page("signup-errors", None, lambda w: reverse("signup"), submit),
    Page("signup-sent", None, lambda w: reverse("signup-sent")),
    Page("signup-finish", None, lambda w: reverse("signup-finish", args=[w["signup_token"]])),
    Page(
        "signup-finish-errors",
        None,
        lambda w: reverse("signup-finish", args=[w["signup_token"]]),
        passwords_differ,
    ),
    Page("signup-finish-bad-link", None, lambda w: reverse("signup-finish", args=["no-token"])),
    Page("login", None, lambda w: reverse("login")),
    Page("login-errors", None, lambda w: reverse("login"), wrong_password),
    Page("password-reset", None, lambda w: reverse("password_reset")),
    Page("password-reset-errors", None, lambda w: reverse("password_reset"), submit),
    Page("password-reset-done", None, lambda w: reverse("password_reset_done")),
    Page("password-reset-confirm", None, lambda w: w["password_reset_url"]),
    Page(
        "password-reset-confirm-errors", None, lambda w: w["password_reset_url"], passwords_differ
    ),
    Page("password-reset-complete", None, lambda w: reverse("password_reset_complete")),
    Page("upload", "alice", lambda w: reverse("avatars:upload")),
    Page("upload-errors", "alice", lambda w: reverse("avatars:upload"), submit),
    Page("job-running", "alice", _job("running")),
    Page("job-completed", "alice", _job("completed")),
    Page("job-candidates", "alice", _job("candidates")),
    Page("job-failed", "alice", _job("failed")),
    Page("job-delete", "alice", lambda w: reverse("avatars:job-delete", args=[w["completed"].pk])),
    Page("gallery-empty", "newcomer", lambda w: reverse("avatars:gallery")),
    Page("gallery", "alice", lambda w: reverse("avatars:gallery")),
    Page("shared", None, lambda w: reverse("avatars:shared", args=[w["share"].token])),
    Page("shared-gone", None, lambda w: reverse("avatars:shared", args=[w["revoked_share"].token])),
    Page("account", "alice", lambda w: reverse("account")),
    Page("account-new-api-token", "alice", lambda w: reverse("account"), create_api_token),
    Page("password-change", "alice", lambda w: reverse("password_change")),
    Page("password-change-errors", "alice", lambda w: reverse("password_change"), submit),
    Page("password-change-done", "alice", lambda w: reverse("password_change_done")),
    Page("account-delete", "alice", lambda w: reverse("account-delete")),
    Page("account-delete-errors", "alice", lambda w: reverse("account-delete"), submit),
    Page("privacy", None, lambda w: reverse("privacy")),
    Page("showcase", None, lambda w: reverse("avatars:showcase")),
    Page("not-found", None, lambda w: "/no-such-page/"),
    Page("shop-catalogue", None, lambda w: reverse("shop:catalogue")),
    Page("shop-product-visitor", None, lambda w: reverse("shop:product", args=["forest-hoodie"])),
    Page("shop-product", "alice", lambda w: reverse("shop:product", args=["forest-hoodie"])),
    Page("shop-look", "alice", lambda w: _look(w["look"])),
    Page("shop-look-running", "alice", lambda w: _look(w["running_look"])),
    Page("shop-look-failed", "alice", lambda w: _look(w["failed_look"])),
    Page("shop-outfit", "alice", lambda w: reverse("shop:outfit", args=[w["outfit"].pk])),
    Page(
        "shop-outfit-running",
        "alice",
        lambda w: reverse("shop:outfit", args=[w["running_outfit"].pk]),
    ),
    Page(
        "shop-outfit-failed",
        "alice",
        lambda w: reverse("shop:outfit", args=[w["failed_outfit"].pk]),
    ),
    Page("embed-sign-in", None, _embed_window),
    Page("embed-choose", "alice", _embed_window),
    Page("embed-choose-no-avatar", "newcomer", _embed_window),
    Page("embed-refused", None, lambda w: _embed_window(w, key="pk_unknown")),
    Page("embed-look", "alice", _embed_look("look")),
    Page("embed-look-running", "alice", _embed_look("running_look")),
    Page("embed-look-failed", "alice", _embed_look("failed_look")),
]

# Pages answered with another status than 200, on purpose.
STATUS = {"not-found": 404, "shared-gone": 404, "embed-refused": 403}

# Pages the server layer answers with before Django's views (no template tags of their own, no
# URL to reach them in a test): served in place of a path, with the app's real stylesheet.
STANDALONE_PAGES = [
    ("too-large", "413.html", {"message": "A selfie can be at most 10 MB. Choose a smaller one."}),
    ("server-error", "500.html", {}),
]


def _image(size, colour=None):
    """A portrait-shaped picture (the test selfie, cropped), as PNG bytes."""
    with Image.open(io.BytesIO(astronaut_jpeg())) as selfie:
        picture = ImageOps.fit(selfie.convert("RGB"), size)
    if colour:
        picture = Image.blend(picture, Image.new("RGB", size, colour), 0.25)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _start(owner, job=None):
    """A job (a new avatar, unless given) whose prediction FASHN is processing (no worker)."""
    job = job or make_job(owner)
    attempt = PredictionAttempt.objects.create(
        job=job,
        number=1,
        prediction_id=f"pred-{uuid.uuid4().hex[:12]}",
        submitted_at=timezone.now(),
    )
    AvatarJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, submitted_at=timezone.now()
    )
    return job, attempt


def _completed(owner, images=1, job=None):
    job, attempt = _start(owner, job)
    tints = [None, (120, 90, 200), (200, 120, 90), (90, 160, 120)]
    stored = []
    for index in range(images):
        image = default_storage.save(
            result_path(job, f"1-{index}.png"), ContentFile(_image((416, 624), tints[index % 4]))
        )
        thumbnail = default_storage.save(
            result_path(job, f"1-{index}-thumb.jpg"),
            ContentFile(_image((208, 312), tints[index % 4])),
        )
        stored.append(StoredOutput(index, image, thumbnail, "image/png", 416, 624))
    transitions.complete_job(job, attempt, stored_outputs=stored, credits_used=2 * images)
    return AvatarJob.objects.get(pk=job.pk)


def _outfit(shopper, avatar, top, bottoms):
    """``shopper``'s outfit of the demo store's ``top`` and ``bottoms`` on ``avatar`` (no worker:
    each step's try-on waits until the test completes or fails it)."""
    products = [Product.objects.get(slug=top), Product.objects.get(slug=bottoms)]
    return shop.start_outfit(shopper, avatar, products)


@pytest.fixture
def world(django_user_model, staff):
    alice = django_user_model.objects.create_user(
        "alice", email="alice@example.com", password="alice-password-1"
    )
    newcomer = django_user_model.objects.create_user("newcomer", password="newcomer-password-1")
    bob = django_user_model.objects.create_user("bob", password="bob-password-1")

    running, _ = _start(alice)
    failed, _ = _start(alice)
    transitions.fail_job(failed, "PipelineError")
    candidates = _completed(alice, images=4)
    completed = _completed(alice)
    share = sharing.create_share_link(completed, days=7)
    revoked_share = sharing.create_share_link(completed, days=7)
    sharing.revoke_share_link(revoked_share)
    # Someone else's avatar, approved for the store: alice sees it on offer as a model.
    model = _completed(bob)
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)

    # Alice's try-ons in the store: one ready, one still running.
    avatar = completed.results.get()
    look = shop.try_on(alice, Product.objects.get(slug="forest-hoodie"), avatar)
    _completed(alice, job=look.tryon.job)
    running_look = shop.try_on(alice, Product.objects.get(slug="sunset-logo-tee"), avatar)
    failed_look = shop.try_on(alice, Product.objects.get(slug="mustard-knit"), avatar)
    failed_tryon, _attempt = _start(alice, failed_look.tryon.job)
    transitions.fail_job(failed_tryon, "PipelineError")  # may be tried again
    # Her outfits: both garments on; the top on and the bottoms being put on; the top failed.
    outfit = _outfit(alice, avatar, "essential-crew-tee", "stone-chinos")
    for step in outfit.steps.order_by("order"):
        step.refresh_from_db()  # the second starts once the first completes
        _completed(alice, job=step.tryon.job)
    running_outfit = _outfit(alice, avatar, "breton-stripe-tee", "pleated-midi-skirt")
    _completed(alice, job=running_outfit.steps.get(order=1).tryon.job)
    failed_outfit = _outfit(alice, avatar, "oxford-shirt", "stone-chinos")
    top, _attempt = _start(alice, failed_outfit.steps.get(order=1).tryon.job)
    transitions.fail_job(top, "PoseError")

    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    return {
        "people": {"alice": alice, "newcomer": newcomer},
        "running": running,
        "failed": AvatarJob.objects.get(pk=failed.pk),
        "completed": completed,
        "candidates": candidates,
        "share": share,
        "look": look,
        "running_look": running_look,
        "failed_look": failed_look,
        "outfit": outfit,
        "running_outfit": running_outfit,
        "failed_outfit": failed_outfit,
        "revoked_share": revoked_share,
        "signup_token": signup_token("dana@example.com"),
        "password_reset_url": reverse(
            "password_reset_confirm", args=[uid, default_token_generator.make_token(alice)]
        ),
    }


def log_in(page, base, user):
    """Reuse a session the test client opened, instead of typing a password on every page."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base}]
    )


def run_axe(page, base):
    """axe-core's WCAG 2.1 A and AA results for the page as it is now."""
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci)"
    # The Content-Security-Policy allows scripts from the site only (no inline script, which is
    # what add_script_tag(path=...) makes): serve axe from a same-origin address instead, so the
    # page is checked with its policy in force, as shoppers get it.
    url = f"{base}/test-only/axe.min.js"
    page.route(url, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
    if not page.evaluate("() => 'axe' in window"):
        page.add_script_tag(url=url)
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )


def _reviewed(rule, node):
    """Results axe leaves to a person ("incomplete") that a person has checked."""
    # The "AI-generated" label sits on the picture: axe cannot tell its background. Its own
    # background is near-black at 72 % opacity, so white text on it has at least 7:1 contrast
    # whatever the picture shows.
    return rule == "color-contrast" and ".ai-label" in " ".join(map(str, node["target"]))


def axe_problems(page, base):
    """Violations, and results axe could not decide (a broken aria-describedby, a colour over a
    picture): one readable line per element, saying what to fix."""
    result = run_axe(page, base)
    lines = [
        f"{rule['id']} ({rule['impact']}): {rule['help']} ({rule['helpUrl']})\n"
        f"    {node['target']}: {node['failureSummary']}"
        for rule in result["violations"]
        for node in rule["nodes"]
    ]
    lines += [
        f"{rule['id']} (needs review): {rule['help']}\n    {node['target']}: "
        + "; ".join(check["message"] for check in node["any"] + node["all"] + node["none"])
        for rule in result["incomplete"]
        for node in rule["nodes"]
        if not _reviewed(rule["id"], node)
    ]
    return lines


# What the keyboard shows: the element in focus, or what stands for a control drawn invisibly
# (the file input's drop zone, an aspect ratio's card, the picture after a store picker's radio
# button), carries the focus ring (app.css: --focus) or an outline.
FOCUS_SHOWN = """() => {
    const ring = "rgb(79, 53, 224) 0px 0px 0px 5px";
    const active = document.activeElement;
    const shown = [active, active.nextElementSibling, active.parentElement,
                   active.parentElement && active.parentElement.parentElement];
    for (const node of shown) {
        if (!node) continue;
        const style = getComputedStyle(node);
        const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
            && style.outlineColor !== "rgba(0, 0, 0, 0)";
        if (parseFloat(style.opacity) > 0 && (outlined || style.boxShadow.includes(ring))) {
            return true;
        }
    }
    return false;
}"""


def every_focus_shown(page, limit=120):
    """Tab through the whole page: every stop must show where the focus is (WCAG 2.4.7, which
    axe does not check). Returns the elements visited."""
    # Start from the top, whatever has the focus now (the login form focuses its first field).
    page.evaluate(
        "() => { const body = document.body; body.tabIndex = -1; body.focus();"
        " body.removeAttribute('tabindex'); }"
    )
    visited = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => document.activeElement === document.body ? null"
            " : document.activeElement.outerHTML.slice(0, 120)"
        )
        if focused is None or (visited and focused == visited[0]):
            return visited  # past the last stop
        visited.append(focused)
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {focused}"
    return visited


def _loaded(page):
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")


def check(page, base, screenshot, name, viewport):
    """axe's rules; at phone size, then at the 320 px of WCAG 1.4.10 (reflow), the same and
    nothing wider than the screen (no sideways scrolling); at desktop size a visible focus all
    the way through."""
    _loaded(page)
    screenshot(page, f"a11y-{name}-{viewport}")
    problems = axe_problems(page, base)
    assert not problems, f"{name} at {viewport}:\n" + "\n".join(problems)
    if viewport == "desktop":
        assert every_focus_shown(page)
        return
    for width in (VIEWPORTS["phone"][0], NARROWEST):
        page.set_viewport_size({"width": width, "height": VIEWPORTS["phone"][1]})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    problems = axe_problems(page, base)
    assert not problems, f"{name} at {NARROWEST} px:\n" + "\n".join(problems)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.mark.parametrize("checked", PAGES, ids=[page.name for page in PAGES])
def test_page_has_no_wcag_violations(live_server, new_page, screenshot, world, viewport, checked):
    page = new_page(*VIEWPORTS[viewport])
    if checked.who:
        log_in(page, live_server.url, world["people"][checked.who])
    response = page.goto(f"{live_server.url}{checked.path(world)}")
    assert response.status == STATUS.get(checked.name, 200)
    if checked.who:
        expect(page.locator("text=Log out")).to_be_visible()  # really logged in
    if checked.then:
        checked.then(page)
    check(page, live_server.url, screenshot, checked.name, viewport)


@pytest.mark.parametrize(
    ("name", "template", "context"), STANDALONE_PAGES, ids=[page[0] for page in STANDALONE_PAGES]
)
def test_error_page_has_no_wcag_violations(
    live_server, new_page, screenshot, viewport, name, template, context
):
    page = new_page(*VIEWPORTS[viewport])
    html = render_to_string(template, context)
    page.route(
        f"{live_server.url}/error-page/",
        lambda route: route.fulfill(status=500, content_type="text/html", body=html),
    )
    page.goto(f"{live_server.url}/error-page/")
    check(page, live_server.url, screenshot, name, viewport)


def test_the_check_reports_what_breaks_the_rules(live_server, new_page):
    """The check above really runs axe's rules: a picture without a text alternative, a field
    without a label and pale text are each reported, on a page that otherwise passes."""
    page = new_page()
    page.goto(f"{live_server.url}{reverse('privacy')}")
    assert axe_problems(page, live_server.url) == []
    page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.insertAdjacentHTML("beforeend",
                '<img src="/static/favicon.svg"><input type="text" name="nameless">'
                + '<p style="color: #bbb">pale</p>');
        }"""
    )
    # The inline style is refused by the Content-Security-Policy: colour the text from script.
    page.evaluate("() => { document.querySelector('main p:last-child').style.color = '#bbb'; }")
    found = {line.split(" ")[0] for line in axe_problems(page, live_server.url)}
    assert {"image-alt", "label", "color-contrast"} <= found


def tab_to(page, selector, limit=60):
    """Press Tab until the element matching ``selector`` has the focus, checking at every stop
    that the focus can be seen."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {focused}"
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_an_avatar_can_be_made_with_the_keyboard_alone(
    live_server, new_page, screenshot, alice, selfie_path
):
    page = new_page()
    # Listening from the start: Playwright then intercepts every file chooser, where starting to
    # intercept only as the key is pressed can miss the one it opens.
    page.on("filechooser", lambda chooser: chooser.set_files(str(selfie_path)))
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{reverse('avatars:upload')}")
    page.wait_for_load_state("load")  # the upload page's script has run

    # The first Tab shows the skip link; Enter takes the focus past the menu.
    tab_to(page, ".skip-link", limit=1)
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    tab_to(page, "#id_face_image")
    page.keyboard.press("Space")  # opens the file chooser (answered above)
    expect(page.locator("[data-preview]")).to_be_visible()

    tab_to(page, "[data-suggestion='curvy figure']")
    page.keyboard.press("Enter")
    expect(page.locator("#id_prompt")).to_have_value("curvy figure")

    tab_to(page, "[name=aspect_ratio]")
    page.keyboard.press("ArrowRight")
    checked_ratio = page.locator("[name=aspect_ratio]:checked")
    expect(checked_ratio).to_have_value("9:16")
    screenshot(page, "a11y-keyboard-upload-focus")

    tab_to(page, "#id_consent")
    page.keyboard.press("Space")
    expect(page.locator("#id_consent")).to_be_checked()

    tab_to(page, "form.upload-form button[type=submit]")
    screenshot(page, "a11y-keyboard-upload-submit")
    page.keyboard.press("Enter")

    expect(page.locator("#job-panel")).to_be_visible()
    job = AvatarJob.objects.get()
    assert (job.owner, job.prompt, job.aspect_ratio) == (alice, "curvy figure", "9:16")


def test_a_screen_reader_hears_when_the_avatar_is_ready(live_server, new_page, alice):
    """The job panel is replaced every second while it runs; the page's live region, which
    stays, says the new state once it changes (and says nothing while it does not)."""
    job, attempt = _start(alice)
    page = new_page()
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}")
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("role", "status")
    page.evaluate("window.__announcer = document.getElementById('announcer')")
    page.evaluate(  # one refresh of the panel, in the same state: nothing to say
        "() => new Promise(done =>"
        " document.body.addEventListener('htmx:afterSettle', done, {once: true}))"
    )
    expect(announcer).to_have_text("")

    transitions.complete_job(job, attempt, stored_outputs=[], credits_used=2)

    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible()
    expect(announcer).to_have_text("Your avatar: Completed")
    assert page.evaluate("window.__announcer === document.getElementById('announcer')")
    assert page.locator("#job-panel[aria-live]").count() == 0  # no second voice


def test_the_focus_stays_put_while_the_job_panel_refreshes(live_server, new_page, alice):
    """htmx puts the focus back on an element of the same id after replacing the panel: a
    keyboard user on the panel's link is not thrown back to the top every second."""
    job, _attempt = _start(alice)
    page = new_page()
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}")
    tab_to(page, "#job-panel a")
    page.evaluate("window.__panel = document.getElementById('job-panel')")
    page.evaluate(
        "() => new Promise(done =>"
        " document.body.addEventListener('htmx:afterSettle', done, {once: true}))"
    )
    assert page.evaluate("window.__panel !== document.getElementById('job-panel')")  # replaced
    assert page.evaluate("document.activeElement.matches('#job-panel a')")
    assert page.evaluate(FOCUS_SHOWN)


def test_the_focus_shows_in_forced_colours(live_server, new_page, alice):
    """Windows' high contrast modes drop the box-shadow the focus ring is drawn with: an outline
    (transparent otherwise) shows the focus there, all the way through the upload form."""
    page = new_page()
    page.emulate_media(forced_colors="active")
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{reverse('avatars:upload')}")
    page.wait_for_load_state("load")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    assert len(every_focus_shown(page)) > 10


def test_a_shopper_picks_an_avatar_to_try_on_with_the_keyboard_alone(
    live_server, new_page, screenshot, world
):
    alice = world["people"]["alice"]
    page = new_page()
    log_in(page, live_server.url, alice)
    page.goto(f"{live_server.url}{reverse('shop:product', args=['breton-stripe-tee'])}")
    page.wait_for_load_state("load")
    pickers = page.locator("section[aria-labelledby=on-me] input[name=avatar]")
    expect(pickers).to_have_count(2)

    tab_to(page, "section[aria-labelledby=on-me] input[name=avatar]")
    page.keyboard.press("ArrowRight")  # the second of her avatars
    expect(pickers.nth(1)).to_be_checked()
    picked = int(pickers.nth(1).get_attribute("value"))
    screenshot(page, "a11y-keyboard-store-pick")
    tab_to(page, "section[aria-labelledby=on-me] button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator("#look")).to_be_visible()
    look = Look.objects.get(tryon__garment_slug__startswith="breton-stripe-tee-")
    assert (look.shopper, look.tryon.avatar_result_id) == (alice, picked)
