"""Try-ons: one garment on one avatar image, made once and then served from the cache; and looks,
each shopper's own way to a try-on they asked for.

The tryon-v1.6 prediction itself is an ``AvatarJob`` (model ``tryon-v1.6``) run by the avatar
pipeline, owned by the avatar's owner: it shows their face, so it goes when they delete the
avatar or their account. The picture is shared by everyone who asks (it saves FASHN credits);
what one shopper asked for is theirs alone, so shoppers reach try-ons only through their looks.
"""

import uuid

from django.conf import settings
from django.db import models

from avatar_studio.avatars.models import AvatarJob, AvatarResult


class TryOn(models.Model):
    avatar_result = models.ForeignKey(AvatarResult, on_delete=models.CASCADE, related_name="+")
    garment_slug = models.SlugField(max_length=64)
    job = models.OneToOneField(AvatarJob, on_delete=models.CASCADE, related_name="tryon")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The cache: one try-on per avatar image and garment, whoever asks for it.
            models.UniqueConstraint(
                fields=["avatar_result", "garment_slug"], name="one_tryon_per_avatar_and_garment"
            )
        ]

    def __str__(self):
        return f"{self.garment_slug} on {self.avatar_result}"


class Look(models.Model):
    """A shopper asked to see ``tryon``: the shopper may open it, at an address nobody can guess.

    The id is a random UUID, not a row number: the look's URL carries it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shopper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="looks"
    )
    tryon = models.ForeignKey(TryOn, on_delete=models.CASCADE, related_name="looks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Asking again for the same try-on finds the same look.
            models.UniqueConstraint(fields=["shopper", "tryon"], name="one_look_per_shopper")
        ]

    def __str__(self):
        return f"{self.tryon} for {self.shopper}"
