"""Store benchmark: the catalogue and a product page with 1,000 products on PostgreSQL.

    .venv/bin/python bench/store.py [--products 1000] [--requests 50]

Target: both pages render in under 50 ms of server time with 1,000 published products (and
100 unpublished ones beside them), with the same number of queries as with 10 products.

Runs against the benchmarks' own database, ``avatar_studio_bench`` on 127.0.0.1:5432 (created if
missing, migrated, its product tables emptied at the start), never the developers' ones; media
in a temporary directory. Each product has two photo rows (the pages read rows, not files: the
photos themselves are served by their own URL). Requests go through ``django.test.Client`` as a
logged-in shopper (the product page then also lists her avatars and the shared models), so the
time is Django's whole request path without a socket: server time. Each URL is asked
``--requests`` times after two warm-up requests; the table shows the median and 90th percentile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import BENCH_DB_NAME, cpu_model, ensure_bench_database  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_media = tempfile.TemporaryDirectory(prefix="bench-store-media-")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{BENCH_DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_KEY_PREFIX": "avatar-studio-bench",
        "CELERY_QUEUE": "avatar-studio-bench",
        "MEDIA_ROOT": _media.name,
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
)

TARGET_MS = 50

ensure_bench_database()

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from avatar_studio.shop.models import Product, ProductImage  # noqa: E402

User = get_user_model()


def reset():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE shop_productimage, shop_product RESTART IDENTITY CASCADE")
    User.objects.filter(username="bench-shopper").delete()
    return User.objects.create_user("bench-shopper", "shopper@example.com", "bench-password")


def add_products(count, start):
    """``count`` more products, 1 in 11 unpublished, each with two photo rows."""
    products = [
        Product(
            name=f"Bench shirt {i}",
            slug=f"bench-shirt-{i}",
            price="29.00",
            category=("tops", "bottoms", "one-pieces")[i % 3],
            description="A shirt for the benchmark. " * 8,
            is_published=i % 11 != 10,
        )
        for i in range(start, start + count)
    ]
    Product.objects.bulk_create(products, batch_size=1000)
    ProductImage.objects.bulk_create(
        [
            ProductImage(
                product=product, image=f"products/{product.slug}-{n}.png", width=600,
                height=750, position=n,
            )
            for product in products
            for n in range(2)
        ],
        batch_size=2000,
    )  # fmt: skip


def p90(values):
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def measure(client, url, requests):
    for _ in range(2):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), p90(times), len(queries)


def urls():
    first = Product.objects.published().order_by("created_at", "id").first()
    last = Product.objects.published().order_by("created_at", "id").last()
    pages = -(-Product.objects.published().count() // 24)
    return [
        ("catalogue, page 1", "/shop/"),
        (f"catalogue, page {pages} (last)", f"/shop/?page={pages}"),
        ("product page (first)", f"/shop/products/{first.slug}/"),
        ("product page (last)", f"/shop/products/{last.slug}/"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split()[1]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; PostgreSQL {pg_version} on loopback")
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    shopper = reset()
    client = Client()
    client.force_login(shopper)

    small = 11  # 10 published
    add_products(small, 0)
    baseline = {name: measure(client, url, args.requests) for name, url in urls()[:1]}
    base_queries = {
        "catalogue": baseline["catalogue, page 1"][2],
        "product": measure(client, urls()[2][1], 5)[2],
    }
    # The published count the user asked for, plus the unpublished ones around them.
    total = args.products * 11 // 10
    add_products(total - small, small)
    published = Product.objects.published().count()
    print(
        f"{published} published products ({Product.objects.count()} in all, "
        f"{ProductImage.objects.count()} photo rows); {args.requests} requests per URL, "
        f"server time (django.test.Client), target {TARGET_MS} ms"
    )
    print()
    header = f"{'page':32} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'at 10':>6}"
    print(header)
    print("-" * len(header))
    for name, url in urls():
        median, ninety, queries = measure(client, url, args.requests)
        at_ten = base_queries["catalogue" if name.startswith("catalogue") else "product"]
        flag = "" if ninety < TARGET_MS else "  (over target)"
        print(f"{name:32} {median:10.1f} {ninety:8.1f} {queries:8} {at_ten:6}{flag}")
    load = os.getloadavg()
    print()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
