"""A request that cannot be built (here, a key that is no valid header) is a configuration error:
nothing was sent, a retry cannot help, and the key never appears in the message."""

import pytest

from avatar_studio.fashn import ConfigurationError, FaceToModelInputs, FashnClient

FACE = "data:image/jpeg;base64,/9j/4AAQ"


@pytest.mark.parametrize("key", ["sk-live\nsecret-part", "sk-live\rsecret-part"])
def test_a_key_that_cannot_be_a_header_is_a_configuration_error(engine, key):
    with FashnClient(key, engine.url) as client, pytest.raises(ConfigurationError) as raised:
        client.run_face_to_model(FaceToModelInputs(face_image=FACE))

    error = raised.value
    assert error.retryable is False
    assert error.maybe_submitted is False
    assert "secret-part" not in str(error) and "secret-part" not in repr(error)
    assert engine.stats()["run_calls"] == 0
