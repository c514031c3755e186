"""The consent a user gives before uploading a selfie, versioned.

The version is stored with each job, so we can always tell which words a person agreed to. Change
the version whenever the text changes in substance.
"""

from django.conf import settings

CONSENT_VERSION = "2026-11-24.2"  # .2: selfies are deleted on a schedule


def consent_text():
    """The plain-words statement beside the consent checkbox, for the configured processor."""
    if settings.USING_OFFLINE_ENGINE:
        processor = (
            "It is processed on this server by the studio's own avatar engine; it is not sent "
            "to anyone else."
        )
    else:
        processor = (
            "It is sent to FASHN (fashn.ai), the service that makes the avatar, which processes "
            "it on our behalf."
        )
    return (
        "I agree that Avatar Studio uses this selfie to make an AI-generated avatar of me. "
        f"{processor} {_selfie_retention()} The avatars are kept privately in my account until I "
        "delete them, which removes the files at once."
    )


def _selfie_retention():
    hours = settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS
    made = f"{hours:g} hours after the avatar is made" if hours else "as soon as the avatar is made"
    days = settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS
    return f"The selfie is deleted {made}, or {days} days after a failed attempt (so I can retry)."
