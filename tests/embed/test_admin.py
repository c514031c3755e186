"""Staff register shops in the admin, copy their snippet, and rotate their key: the old key is
refused from that moment."""

import html

import pytest
from django.urls import reverse

from avatar_studio.embed.models import Shop

from .test_window import window_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("sam", password="sam-password-1")
    client.force_login(admin)
    return client


def test_staff_register_a_shop(admin_client):
    response = admin_client.post(
        reverse("admin:embed_shop_add"),
        {"name": "Corner Boutique", "allowed_origins": "https://shop.example", "is_active": "on"},
    )

    assert response.status_code == 302
    assert Shop.objects.get().key.startswith("pk_")


def test_a_bad_origin_is_refused_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:embed_shop_add"),
        {"name": "Corner Boutique", "allowed_origins": "https://shop.example/shop/"},
    )

    assert response.status_code == 200
    assert "exactly an origin" in response.content.decode()
    assert not Shop.objects.exists()


def test_the_change_page_shows_the_snippet(admin_client, shop):
    response = admin_client.get(reverse("admin:embed_shop_change", args=[shop.pk]))
    page = html.unescape(response.content.decode())

    assert f'data-key="{shop.key}"' in page
    assert "http://testserver/static/embed/button.js" in page
    assert reverse("admin:embed_shop_rotate_key", args=[shop.pk]) in page


def test_rotating_the_key_refuses_the_old_one(
    admin_client, client, shop, garment_host, fetch_policy
):
    old_key = shop.key

    response = admin_client.post(reverse("admin:embed_shop_rotate_key", args=[shop.pk]))

    shop.refresh_from_db()
    assert response.status_code == 302
    assert shop.key != old_key and shop.key.startswith("pk_")
    client.logout()
    assert client.get(window_url(shop, garment_host, key=old_key)).status_code == 403
    assert client.get(window_url(shop, garment_host)).status_code == 200


def test_the_rotate_action_rotates_each_selected_shop(admin_client, shop):
    other = Shop.objects.create(name="Second", allowed_origins="https://second.example")
    keys = {shop.key, other.key}

    admin_client.post(
        reverse("admin:embed_shop_changelist"),
        {"action": "rotate_keys", "_selected_action": [shop.pk, other.pk]},
    )

    assert not keys & set(Shop.objects.values_list("key", flat=True))


def test_rotating_needs_a_post(admin_client, shop):
    old_key = shop.key

    admin_client.get(reverse("admin:embed_shop_rotate_key", args=[shop.pk]))

    shop.refresh_from_db()
    assert shop.key == old_key
