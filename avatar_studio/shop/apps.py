from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "avatar_studio.shop"
    label = "shop"
    verbose_name = "Demo store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete

        from avatar_studio.avatars.files import delete_after_commit

        from .models import ProductImage

        def on_photo_deleted(sender, instance, using, **kwargs):
            # The photo's file goes once its row's deletion commits (see ``avatars.files``).
            delete_after_commit([instance.image.name], using)

        post_delete.connect(on_photo_deleted, sender=ProductImage, weak=False)

        # Outfits: a try-on that completes starts the next garment on its picture.
        from avatar_studio.avatars.pipeline.signals import job_finished

        from . import services

        job_finished.connect(services.on_job_finished, dispatch_uid="shop-outfit-job-finished")
