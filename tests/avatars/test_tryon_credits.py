"""What a try-on costs: one home (``options.tryon_credits``) for the admin, the store and the
estimate of a try-on job."""

import pytest

from avatar_studio import fashn
from avatar_studio.avatars import options
from avatar_studio.avatars.models import AvatarJob, PredictionModel
from avatar_studio.shop import services as shop


def test_tryon_v16_costs_one_credit_per_image_and_tryon_max_four():
    assert options.tryon_credits(fashn.TRYON) == 1
    assert options.tryon_credits(fashn.TRYON, num_images=2) == 2
    assert options.tryon_credits(fashn.TRYON_MAX, generation_mode="balanced") == 4
    assert options.tryon_credits(fashn.TRYON_MAX, generation_mode="quality", num_images=3) == 12
    with pytest.raises(ValueError):
        options.tryon_credits(fashn.FACE_TO_MODEL)


def test_a_try_on_job_is_estimated_at_its_model_price_not_face_to_models():
    premium = AvatarJob(model_name=PredictionModel.TRYON_MAX, generation_mode="quality")
    standard = AvatarJob(model_name=PredictionModel.TRYON)

    assert options.estimated_credits(premium) == 4
    assert options.estimated_credits(standard) == 1


def test_the_store_offers_standard_first_with_each_cost():
    assert shop.tryon_choices() == [
        ("tryon-v1.6", "Standard try-on", 1),
        ("tryon-max", "Premium try-on", 4),
    ]


def test_tryon_max_inputs_carry_the_garment_as_product_image():
    job = AvatarJob(model_name=PredictionModel.TRYON_MAX, generation_mode="quality", seed=7)
    image = "data:image/png;base64,iVBORw0KGgo="

    inputs = job.tryon_inputs(image, image)

    assert isinstance(inputs, fashn.TryOnMaxInputs)
    payload = inputs.to_payload()
    assert payload["product_image"] == image
    assert "garment_image" not in payload and "category" not in payload
    assert payload["generation_mode"] == "quality"
