"""The demo store's seed data: ten garments (tops, bottoms and a dress, so a shopper can make a
two-piece outfit), described here and drawn by ``garments.py``.

Products live in the database (``models.Product``); ``manage.py loaddemo`` (run by ``make run``)
turns these into published products with their drawn photos, so a fresh checkout has a store.
Nothing reads this module but that command. ``category`` is FASHN's category.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Garment:
    slug: str
    name: str
    price: Decimal
    category: str  # FASHN's: "tops", "bottoms" or "one-pieces"
    # The shape garments.py draws: tee, longsleeve, hoodie, shirt, sweater, dress, blazer,
    # trousers, skirt.
    cut: str
    colour: tuple  # RGB
    description: str
    pattern: str = "plain"  # plain, stripes, dots, logo
    accent: tuple = (255, 255, 255)  # stripes, dots, logo, buttons, lining

    @property
    def colour_hex(self):
        return "#{:02x}{:02x}{:02x}".format(*self.colour)


DEMO_GARMENTS = (
    Garment(
        slug="essential-crew-tee",
        name="Essential crew tee",
        price=Decimal("19.00"),
        category="tops",
        cut="tee",
        colour=(36, 52, 92),
        description="Midweight organic cotton jersey with a ribbed crew neck. A regular fit that "
        "sits at the hip.",
    ),
    Garment(
        slug="breton-stripe-tee",
        name="Breton stripe tee",
        price=Decimal("32.00"),
        category="tops",
        cut="longsleeve",
        colour=(245, 241, 230),
        pattern="stripes",
        accent=(28, 44, 96),
        description="The sailor's classic in heavy cotton, with long sleeves and navy stripes.",
    ),
    Garment(
        slug="sunset-logo-tee",
        name="Sunset logo tee",
        price=Decimal("24.00"),
        category="tops",
        cut="tee",
        colour=(232, 110, 86),
        pattern="logo",
        accent=(255, 236, 210),
        description="Garment-dyed cotton with a printed sun on the chest. Softens with each wash.",
    ),
    Garment(
        slug="forest-hoodie",
        name="Forest hoodie",
        price=Decimal("59.00"),
        category="tops",
        cut="hoodie",
        colour=(46, 94, 66),
        accent=(230, 230, 220),
        description="Brushed-back fleece with a lined hood, kangaroo pocket and flat drawcords.",
    ),
    Garment(
        slug="oxford-shirt",
        name="Sky oxford shirt",
        price=Decimal("48.00"),
        category="tops",
        cut="shirt",
        colour=(150, 186, 226),
        accent=(250, 250, 252),
        description="Soft oxford cloth with a button-down collar and mother-of-pearl buttons.",
    ),
    Garment(
        slug="mustard-knit",
        name="Mustard knit sweater",
        price=Decimal("64.00"),
        category="tops",
        cut="sweater",
        colour=(214, 160, 48),
        accent=(190, 138, 36),
        description="Lambswool crew neck with ribbed cuffs and hem, knitted in Scotland.",
    ),
    Garment(
        slug="poppy-sundress",
        name="Poppy sundress",
        price=Decimal("72.00"),
        category="one-pieces",
        cut="dress",
        colour=(196, 38, 52),
        pattern="dots",
        accent=(252, 240, 236),
        description="A cotton poplin sundress with a fitted bodice, a tie waist and a full skirt.",
    ),
    Garment(
        slug="charcoal-blazer",
        name="Charcoal blazer",
        price=Decimal("129.00"),
        category="tops",
        cut="blazer",
        colour=(62, 64, 72),
        accent=(150, 40, 60),
        description="Unstructured wool-blend blazer with notch lapels and a two-button front.",
    ),
    Garment(
        slug="stone-chinos",
        name="Stone chinos",
        price=Decimal("54.00"),
        category="bottoms",
        cut="trousers",
        colour=(196, 176, 140),
        accent=(120, 96, 64),
        description="Straight-leg cotton twill chinos with slanted front pockets and a button "
        "fly. Pressed creases, a mid rise.",
    ),
    Garment(
        slug="pleated-midi-skirt",
        name="Pleated midi skirt",
        price=Decimal("68.00"),
        category="bottoms",
        cut="skirt",
        colour=(44, 84, 88),
        accent=(210, 200, 170),
        description="A flared midi skirt in soft crepe, pleated from a flat waistband, with a side "
        "zip.",
    ),
)
