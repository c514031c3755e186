"""Load the demo store: the garments of ``shop.catalogue`` (tops, bottoms and a dress), drawn by
``shop.garments``, as published products with one photo each. Safe to run again: a product that
exists (by slug) is left as staff last saved it, and only one without a photo gets the drawn
one."""

from django.core.management.base import BaseCommand

from avatar_studio.shop import services


class Command(BaseCommand):
    help = "Create the demo store's products (idempotent)."

    def handle(self, *args, **options):
        created = services.load_demo_products()
        if options["verbosity"]:
            self.stdout.write(f"Demo store: {created} product(s) created.")
