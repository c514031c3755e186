"""Spending a user's daily allowance in tests, without running avatars."""

import uuid

from avatar_studio.avatars.models import PredictionModel
from avatar_studio.credits.models import CreditState, CreditUse


def spend(user, credits):
    """``credits`` of ``user``'s allowance already used today (an earlier avatar's charge)."""
    return CreditUse.objects.create(
        owner=user,
        job_id=uuid.uuid4(),
        model_name=PredictionModel.FACE_TO_MODEL,
        estimated=credits,
        charged=credits,
        state=CreditState.CHARGED,
        counted=True,
    )
