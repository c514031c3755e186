"""A user's own data, to take with them: a zip of their avatars, selfies still kept, the try-ons
they asked for, and ``data.json``, the record of their account, jobs, consents, share links, API
token, looks, outfits and looks made through shops' buttons.

Only what is the user's goes in. Their avatars (every image of every job) are theirs. A try-on
is theirs when they asked for it (they own it: ``shop.TryOn.shopper``), whoever's avatar it was
made on; another shopper's try-on of their shared avatar is that shopper's, and is not in theirs.
A look or outfit whose model has since left the store keeps its record but not its pictures, as
in the store (``shop.selectors.may_wear``).

Files are read through the storage API (the filesystem or S3 alike) and copied into a temporary
file in chunks, so memory stays bounded however many 4k images there are. A file gone from
storage meanwhile is skipped and listed in ``data.json`` under ``missing_files``.
"""

import json
import posixpath
import shutil
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars import received_selfies
from avatar_studio.avatars.models import AvatarJob, AvatarResult, PredictionAttempt
from avatar_studio.embed.models import EmbedLook
from avatar_studio.shop.models import Look, Outfit, OutfitStep
from avatar_studio.shop.selectors import may_wear, product_for_tryon

from . import services, throttle

# Up to this much of the zip stays in memory; past it, the temporary file is on disk.
IN_MEMORY_BYTES = 8 * 1024 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
FORMAT = "avatar-studio-data/1"

README = """\
Your data from Avatar Studio, as of {exported_at} UTC.

data.json
    The record of your account, in JSON:
    - account: your username, email address and when you joined.
    - jobs: every avatar you asked for: when, its status, the inputs sent to FASHN (the
      service that makes the avatars), each attempt's prediction id, status, error and the
      FASHN credits it used, what went wrong if it failed, and the files of it in this zip.
    - consents: for each avatar, the version of the consent text you agreed to before
      uploading and when; whether you offered it for public display, when, and what
      staff decided (review_state: private, pending, approved or rejected).
    - share_links: every link you made to one of your avatars: its address and token, when it
      was made, when it expires and whether you turned it off.
    - api_token: when your API token was made. Its key is not included: anyone holding it
      could act as you. Replace it on the account page if you need a new one.
    - looks: every try-on you asked for (in the store, through the API or a shop's button):
      the garment, the avatar it was made on (yours, or a model from the store, whose owner
      is not named), its status, its files and its attempts.
    - outfits: every outfit you put together in the store: the avatar, and each step in the
      order it was put on, with its garment, status, attempts and files.
    - shop_looks: the try-ons you made through a shop's "See it on me" button: which shop, the
      web address it was on, the garment's name as the shop sent it, and the look it led to.
    - missing_files: files that were gone from our storage when this was made (deleted
      meanwhile), so they are not in the zip.

avatars/<job id>/image-<n>.<ext>
    The images of each of your avatars, as stored (marked as AI-generated).

avatars/<job id>/selfie.jpg
    The selfie of an avatar, only while we still keep it: a selfie is deleted once its avatar
    is made, and the selfie of an avatar that failed some days later.

try-ons/<look id>/image-<n>.<ext>
    The pictures of the try-ons you asked for.

outfits/<outfit id>/step-<step>/image-<n>.<ext>
    The pictures of each step of your outfits.

Thumbnails are left out: they are smaller copies of the images above. The garment pictures are
the store's own.
"""


@dataclass
class _Archive:
    """The zip being written, and the files that could not be read."""

    zip: zipfile.ZipFile
    date_time: tuple
    missing: list = field(default_factory=list)

    def copy(self, storage, name, arcname, what):
        """Copy a stored file into the zip; None (and a note in ``missing``) if it is gone."""
        if not name:
            return None
        try:
            source = storage.open(name, "rb")
        except FileNotFoundError:
            self.missing.append({"file": arcname, "what": what, "reason": "deleted meanwhile"})
            return None
        # Images are compressed already: stored as they are, so the bytes are the stored ones.
        info = zipfile.ZipInfo(arcname, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_STORED
        with source, self.zip.open(info, "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, COPY_CHUNK_BYTES)
        return arcname

    def write_text(self, arcname, text):
        info = zipfile.ZipInfo(arcname, date_time=self.date_time)
        self.zip.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED)


def _normalised_selfie(job):
    """True once the job's selfie is the normalised JPEG: a HEIC still as received (with its
    metadata) is normalised first, so the export holds what we keep, never the original."""
    return received_selfies.normalise_received(job) and bool(job.selfie)


def export_filename(now=None):
    return f"avatar-studio-data-{(now or timezone.now()):%Y-%m-%d}.zip"


def export_data(user):
    """The user's data as a zip in a temporary file, positioned at its start; the caller closes
    it (which deletes it). Counted against the account's export limit first: raises
    ``throttle.Limited`` past it, having read nothing."""
    throttle.take_for_account("data-export", user.pk)
    now = timezone.now()
    # Closed by the response once sent (or below on failure), which deletes it.
    archive_file = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, mode="w+b")  # noqa: SIM115
    try:
        with zipfile.ZipFile(archive_file, "w") as zip_file:
            archive = _Archive(zip_file, date_time=now.timetuple()[:6])
            archive.write_text("README.txt", README.format(exported_at=f"{now:%Y-%m-%d %H:%M}"))
            record = _record(user, archive, now)
            archive.write_text("data.json", json.dumps(record, indent=2, ensure_ascii=False))
    except BaseException:
        archive_file.close()
        raise
    archive_file.seek(0)
    return archive_file


def _record(user, archive, now):
    avatar_jobs = list(_avatar_jobs(user))
    looks = list(_looks(user))
    outfits = list(_outfits(user))
    steps = [step for outfit in outfits for step in outfit.steps.all() if step.tryon]
    images = _images_of(
        [job.pk for job in avatar_jobs]
        + [look.tryon.job_id for look in looks]
        + [step.tryon.job_id for step in steps]
    )
    jobs = [_job(job, images[job.pk], archive) for job in avatar_jobs]
    token = services.api_token_of(user)
    return {
        "format": FORMAT,
        "exported_at": _time(now),
        "account": {
            "username": user.get_username(),
            "email": user.email,
            "date_joined": _time(user.date_joined),
        },
        "jobs": [entry for entry, _consent, _links in jobs],
        "consents": [consent for _entry, consent, _links in jobs],
        "share_links": [link for _entry, _consent, links in jobs for link in links],
        "api_token": {"created": _time(token.created)} if token else None,
        "looks": [_look(user, look, images[look.tryon.job_id], archive) for look in looks],
        "outfits": [_outfit(user, outfit, images, archive) for outfit in outfits],
        "shop_looks": [_shop_look(entry) for entry in _shop_looks(user)],
        "missing_files": archive.missing,
    }


# --- Reads --------------------------------------------------------------------------------------


# Images are read as plain values, not ``AvatarResult`` rows: loading a row whose width is not
# recorded makes its ImageField open the file to measure it, which fails on a missing file.
_IMAGE = AvatarResult._meta.get_field("image")
_ATTEMPTS = PredictionAttempt.objects.order_by("number")


def _avatar_jobs(user):
    """The user's avatars, newest first, each with its attempts and share links."""
    return (
        AvatarJob.objects.avatars()
        .filter(owner=user)
        .order_by("-created_at")
        .prefetch_related(Prefetch("attempts", queryset=_ATTEMPTS), "share_links")
    )


def _looks(user):
    """The try-ons the user asked for, oldest first, each with its job and attempts, and the
    avatar it was made on."""
    return (
        Look.objects.filter(shopper=user, tryon__shopper=user)
        .select_related("tryon__job", "tryon__avatar_result__job")
        .defer("tryon__avatar_result__image", "tryon__avatar_result__thumbnail")
        .prefetch_related(Prefetch("tryon__job__attempts", queryset=_ATTEMPTS))
        .order_by("created_at")
    )


def _outfits(user):
    """The user's outfits, oldest first, each with its steps, their products, try-ons and
    attempts."""
    steps = OutfitStep.objects.select_related("product", "tryon__job").order_by("order")
    return (
        Outfit.objects.filter(shopper=user)
        .select_related("avatar_result__job")
        .defer("avatar_result__image", "avatar_result__thumbnail")
        .prefetch_related(
            Prefetch("steps", queryset=steps),
            Prefetch("steps__tryon__job__attempts", queryset=_ATTEMPTS),
        )
        .order_by("created_at")
    )


def _shop_looks(user):
    """The looks the user made through shops' buttons, oldest first."""
    return (
        EmbedLook.objects.filter(look__shopper=user)
        .select_related("shop")
        .order_by("created_at", "pk")
    )


def _images_of(job_ids):
    """Each job's images: (index, stored name, content type), in order."""
    images = defaultdict(list)
    rows = AvatarResult.objects.filter(job_id__in=job_ids).order_by("job_id", "index")
    for job_id, index, name, content_type in rows.values_list(
        "job_id", "index", "image", "content_type"
    ):
        images[job_id].append((index, name, content_type))
    return images


# --- Shapes -------------------------------------------------------------------------------------


def _time(value):
    return value.isoformat() if value else None


def _extension(name):
    return posixpath.splitext(name)[1].lower() or ".bin"


def _attempts(job):
    return [
        {
            "number": attempt.number,
            "prediction_id": attempt.prediction_id,
            "status": attempt.status,
            "submitted_at": _time(attempt.submitted_at),
            "finished_at": _time(attempt.finished_at),
            "credits_used": attempt.credits_used,
            "error_name": attempt.error_name or None,
            "error_message": attempt.error_message or None,
        }
        for attempt in job.attempts.all()
    ]


def _copy_images(images, folder, archive, what):
    return [
        {
            "index": index,
            "file": archive.copy(
                _IMAGE.storage, name, f"{folder}/image-{index}{_extension(name)}", what
            ),
            "content_type": content_type,
        }
        for index, name, content_type in images
    ]


def _job(job, images, archive):
    """A job's entry in ``jobs``, its entry in ``consents`` and its share links."""
    folder = f"avatars/{job.pk}"
    entry = {
        "id": str(job.pk),
        "created_at": _time(job.created_at),
        "submitted_at": _time(job.submitted_at),
        "finished_at": _time(job.finished_at),
        "status": job.status,
        "error_name": job.error_name or None,
        "error_message": job.error_message or None,
        "fashn_inputs": {
            "prompt": job.prompt,
            "aspect_ratio": job.aspect_ratio,
            "seed": job.seed,
            "output_format": job.output_format,
            "return_base64": job.return_base64,
            "resolution": job.resolution or None,
            "generation_mode": job.generation_mode or None,
            "num_images": job.num_images,
        },
        "attempts": _attempts(job),
        "credits_used": sum(attempt.credits_used or 0 for attempt in job.attempts.all()),
        "selfie": archive.copy(
            job.selfie.storage, job.selfie.name, f"{folder}/selfie.jpg", "selfie"
        )
        if _normalised_selfie(job)
        else None,
        "images": _copy_images(images, folder, archive, "avatar image"),
    }
    consent = {
        "job_id": str(job.pk),
        "consent_version": job.consent_version or None,
        "consented_at": _time(job.consented_at),
        "public_consent_at": _time(job.public_consent_at),
        "review_state": job.review_state,
        "reviewed_at": _time(job.reviewed_at),
        "review_reason": job.review_reason or None,
    }
    links = [
        {
            "job_id": str(job.pk),
            "token": link.token,
            "path": reverse("avatars:shared", args=[link.token]),
            "created_at": _time(link.created_at),
            "expires_at": _time(link.expires_at),
            "revoked_at": _time(link.revoked_at),
        }
        for link in job.share_links.all()
    ]
    return entry, consent, links


def _worn_by(user, avatar_result):
    if avatar_result.job.owner_id == user.pk:
        return {"your_avatar": str(avatar_result.job_id), "image_index": avatar_result.index}
    return {"store_model": True}  # someone else's avatar: theirs, not named here


def _tryon(job):
    """What a try-on job was, did and cost (without its pictures)."""
    return {
        "status": job.status,
        "model": job.model_name,
        "finished_at": _time(job.finished_at),
        "error_message": job.error_message or None,
        "fashn_inputs": {
            "category": job.category or None,
            "mode": job.mode or None,
            "generation_mode": job.generation_mode or None,
            "seed": job.seed,
            "num_samples": job.num_images or 1,
            "output_format": job.output_format,
        },
        "attempts": _attempts(job),
    }


_LEFT_THE_STORE = "The model has left the store since, so its picture is no longer shown."


def _look(user, look, images, archive):
    tryon = look.tryon
    model = tryon.avatar_result
    garment = product_for_tryon(tryon)
    entry = {
        "id": str(look.pk),
        "created_at": _time(look.created_at),
        "garment": {"slug": tryon.garment_slug, "name": garment.name if garment else None},
        "worn_by": _worn_by(user, model),
        **_tryon(tryon.job),
        "images": [],
    }
    if may_wear(user, model):
        entry["images"] = _copy_images(images, f"try-ons/{look.pk}", archive, "try-on picture")
    else:
        entry["note"] = _LEFT_THE_STORE
    return entry


def _outfit(user, outfit, images, archive):
    shown = may_wear(user, outfit.avatar_result)
    entry = {
        "id": str(outfit.pk),
        "created_at": _time(outfit.created_at),
        "worn_by": _worn_by(user, outfit.avatar_result),
        "model": outfit.model_name,
        "steps": [],
    }
    for step in outfit.steps.all():
        step_entry = {
            "order": step.order,
            "garment": {"slug": step.product.slug, "name": step.product.name},
            "status": None,
            "images": [],
        }
        if step.tryon is not None:
            step_entry.update(_tryon(step.tryon.job), images=[])
            if shown:
                folder = f"outfits/{outfit.pk}/step-{step.order}"
                step_entry["images"] = _copy_images(
                    images[step.tryon.job_id], folder, archive, "outfit picture"
                )
        entry["steps"].append(step_entry)
    if not shown:
        entry["note"] = _LEFT_THE_STORE
    return entry


def _shop_look(embed_look):
    return {
        "id": str(embed_look.pk),
        "look_id": str(embed_look.look_id),
        "created_at": _time(embed_look.created_at),
        "shop": embed_look.shop.name,
        "origin": embed_look.origin,
        "garment_name": embed_look.garment_name,
    }
