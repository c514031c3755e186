"""Products in the database: staff add them in the admin (a photo uploaded, or fetched from an
https URL by the selfie fetcher), the store shows only published ones in a fixed number of
queries, and a try-on wears the product's first photo under a key that changes with it."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from avatar_studio.api.fetch import FetchPolicy
from avatar_studio.shop import images, services
from avatar_studio.shop.catalogue import DEMO_GARMENTS
from avatar_studio.shop.models import Product, ProductImage, TryOn

from ..api.imagehost import ImageHost
from ..support import https_host
from ..support.faces import flat_image
from ..support.garments import png_bytes, tshirt
from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db

ADD = "admin:shop_product_add"


def loopback_resolver(host, port):
    # Every name is this machine: what a policy allows decides whether it is fetched.
    return ["127.0.0.1"]


def product_form(slug="linen-overshirt", *, photo=None, url="", published=True):
    data = {
        "name": "Linen overshirt",
        "slug": slug,
        "price": "89.00",
        "category": "tops",
        "description": "Washed linen, two chest pockets.",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-position": "0",
        "images-0-source_url": url,
        "_save": "Save",
    }
    if published:
        data["is_published"] = "on"
    if photo is not None:
        data["images-0-photo"] = photo
    return data


def garment_upload(name="shirt.png"):
    return SimpleUploadedFile(name, png_bytes(tshirt((40, 90, 160))), content_type="image/png")


def stored_photos(media_root):
    folder = media_root / "products"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_staff_add_a_product_with_an_uploaded_photo_and_it_is_in_the_store(
    admin_client, client, media_root
):
    response = admin_client.post(reverse(ADD), product_form(photo=garment_upload()))

    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(slug="linen-overshirt")
    photo = product.images.get()
    assert (photo.width, photo.height) == Image.open(photo.image).size
    with photo.image.open("rb") as stored:
        assert stored.read(8) == b"\x89PNG\r\n\x1a\n"  # normalised to PNG, alpha kept
    assert len(stored_photos(media_root)) == 1
    catalogue = client.get(reverse("shop:catalogue")).content.decode()
    assert "Linen overshirt" in catalogue
    assert reverse("shop:product-photo", args=[photo.pk]) in catalogue
    page = client.get(reverse("shop:product", args=["linen-overshirt"]))
    assert page.status_code == 200
    assert client.get(reverse("shop:product-photo", args=[photo.pk])).status_code == 200
    change = admin_client.get(reverse("admin:shop_product_change", args=[product.pk]))
    assert reverse("shop:product-photo", args=[photo.pk]) in change.content.decode()  # preview


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(admin_client, media_root):
    fake = SimpleUploadedFile("shirt.png", b"%PDF-1.7 not a photo", content_type="image/png")

    response = admin_client.post(reverse(ADD), product_form(photo=fake))

    assert response.status_code == 200
    assert "PDF" in response.content.decode()
    assert not Product.objects.exists()
    assert stored_photos(media_root) == []


def test_a_new_product_needs_a_photo(admin_client):
    data = product_form()
    data["images-0-position"] = "1"  # the row was touched, but neither file nor URL given

    response = admin_client.post(reverse(ADD), data)

    assert "Upload a photo or give its https:// URL." in response.content.decode()
    assert not Product.objects.exists()


def test_a_photo_url_on_loopback_is_refused_before_any_connection(
    admin_client, media_root, monkeypatch
):
    # The production rule (public addresses only) with a resolver that answers loopback.
    policy = FetchPolicy(max_bytes=1024 * 1024, resolve=loopback_resolver)
    monkeypatch.setattr(images, "fetch_policy", lambda: policy)

    response = admin_client.post(reverse(ADD), product_form(url="https://images.test/shirt.png"))

    assert "private or local network address" in response.content.decode()
    assert policy.connected == []
    assert not Product.objects.exists()
    assert stored_photos(media_root) == []


@pytest.fixture(scope="module")
def image_host(tmp_path_factory):
    with ImageHost(tmp_path_factory.mktemp("imagehost")) as host:
        yield host


@pytest.fixture
def loopback_fetch(image_host, monkeypatch):
    """The fetcher's rules, except that the loopback image host stands in for the internet."""
    yield from https_host.loopback_fetch(image_host, monkeypatch)


def test_a_photo_is_fetched_from_an_https_url(admin_client, client, image_host, loopback_fetch):
    policy = loopback_fetch

    response = admin_client.post(reverse(ADD), product_form(url=image_host.url("/face.jpg")))

    assert response.status_code == 302
    photo = Product.objects.get().images.get()
    assert (photo.width, photo.height) == (512, 512)
    assert "/face.jpg" in image_host.requests
    assert set(policy.connected) == {"127.0.0.1"}  # the fetch happened, on loopback only
    assert client.get(reverse("shop:product", args=["linen-overshirt"])).status_code == 200


def test_a_photo_url_that_is_missing_is_refused_and_nothing_is_stored(
    admin_client, image_host, media_root, loopback_fetch
):

    response = admin_client.post(reverse(ADD), product_form(url=image_host.url("/nothing.png")))

    assert "HTTP 404" in response.content.decode()
    assert not Product.objects.exists()
    assert stored_photos(media_root) == []


def test_an_unpublished_product_is_404_and_absent_from_the_store(admin_client, client):
    admin_client.post(reverse(ADD), product_form(photo=garment_upload(), published=False))
    product = Product.objects.get()
    photo = product.images.get()

    assert "Linen overshirt" not in client.get(reverse("shop:catalogue")).content.decode()
    assert client.get(reverse("shop:product", args=[product.slug])).status_code == 404
    assert client.get(reverse("shop:garment-image", args=[product.slug])).status_code == 404
    assert client.get(reverse("shop:product-photo", args=[photo.pk])).status_code == 404
    # Staff who may view products see its photo (the admin's previews).
    assert admin_client.get(reverse("shop:product-photo", args=[photo.pk])).status_code == 200


def _products(count, start=0):
    for number in range(start, start + count):
        product = Product.objects.create(
            name=f"Shirt {number}",
            slug=f"shirt-{number}",
            price="10.00",
            category="tops",
            is_published=True,
        )
        png = images.normalise_garment(io.BytesIO(flat_image((80, 100))))
        services.store_photo(ProductImage(product=product), png)


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_store_pages_cost_the_same_queries_for_one_product_or_fifty(client, alice):
    client.force_login(alice)
    _products(1)
    catalogue = _queries(client, reverse("shop:catalogue"))
    product = _queries(client, reverse("shop:product", args=["shirt-0"]))

    _products(49, start=1)
    for product_row in Product.objects.all()[:10]:
        services.store_photo(ProductImage(product=product_row, position=1), png_bytes(tshirt()))

    assert _queries(client, reverse("shop:catalogue")) == catalogue
    assert _queries(client, reverse("shop:catalogue") + "?page=2") == catalogue
    assert _queries(client, reverse("shop:product", args=["shirt-0"])) == product


def test_a_new_photo_is_a_new_tryon(alice, demo_store):
    avatar = make_finished_job(alice).results.get()
    tee = demo_store["essential-crew-tee"]
    first = services.try_on(alice, tee, avatar).tryon

    old_pk = tee.images.get().pk
    services.store_photo(tee.images.get(), png_bytes(tshirt((200, 30, 30))))  # a new photo
    tee = Product.objects.get(pk=tee.pk)
    second = services.try_on(alice, tee, avatar).tryon

    assert first.garment_slug == f"essential-crew-tee-{old_pk}"
    assert second.garment_slug == f"essential-crew-tee-{tee.first_image().pk}"
    assert first.pk != second.pk
    assert TryOn.objects.count() == 2
    assert not ProductImage.objects.filter(pk=old_pk).exists()


def test_loaddemo_is_idempotent_and_keeps_what_staff_changed(media_root):
    call_command("loaddemo", verbosity=0)
    Product.objects.filter(slug="forest-hoodie").update(price="49.00", is_published=False)

    call_command("loaddemo", verbosity=0)

    assert Product.objects.count() == len(DEMO_GARMENTS) == 10
    assert ProductImage.objects.count() == 10
    assert len(stored_photos(media_root)) == 10
    hoodie = Product.objects.get(slug="forest-hoodie")
    assert (str(hoodie.price), hoodie.is_published) == ("49.00", False)


def test_a_tryon_from_before_products_were_in_the_database_still_shows(client, alice, demo_store):
    avatar = make_finished_job(alice).results.get()
    look = services.try_on(alice, demo_store["forest-hoodie"], avatar)
    TryOn.objects.filter(pk=look.tryon_id).update(garment_slug="forest-hoodie")  # the old key
    client.force_login(alice)

    panel = client.get(reverse("shop:look", args=[look.pk]))

    assert panel.status_code == 200
    assert "Forest hoodie on your avatar" in panel.content.decode()
    # Asking again today makes the try-on of the product's photo, under the new key.
    again = services.try_on(alice, demo_store["forest-hoodie"], avatar)
    assert again.tryon.garment_slug.startswith("forest-hoodie-")
