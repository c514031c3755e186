"""Site-wide pages and operational endpoints."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from avatar_studio.avatars.consent import CONSENT_VERSION


def privacy(request):
    return render(
        request,
        "core/privacy.html",
        {
            "consent_version": CONSENT_VERSION,
            "using_offline_engine": settings.USING_OFFLINE_ENGINE,
            # The retention schedule, from the settings that enforce it (avatars.retention).
            "completed_retention_hours": settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS,
            "failed_retention_days": settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS,
            "purge_interval_minutes": round(
                settings.CELERY_BEAT_SCHEDULE["purge-expired-files"]["schedule"].seconds / 60
            ),
            "share_link_days": settings.SHARE_LINK_DEFAULT_DAYS,
            # What the showcase and the store show of an approved avatar: its thumbnail.
            "public_picture_size": settings.AVATAR_THUMBNAIL_SIZE,
        },
    )


def healthz(request):
    """Liveness of the web process and its two dependencies, for load balancers and `make run`."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - a health check reports, it does not raise
        checks["database"] = f"error: {type(error).__name__}"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        checks["redis"] = "ok"
    except redis.RedisError as error:
        checks["redis"] = f"error: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    status = 200 if healthy else 503
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=status)
