"""Try-ons: one garment on one avatar image, made once and then served from the cache.

The tryon-v1.6 prediction itself is an ``AvatarJob`` (model ``tryon-v1.6``) run by the avatar
pipeline, owned by the avatar's owner: it shows their face, so it goes when they delete the
avatar or their account.
"""

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
