"""return_base64 end to end: the outputs come back in the status answer, nothing is fetched from
a provider URL, and no URL is stored anywhere."""

import pytest
from django.db import connection

from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support.jobs import make_job
from .conftest import run_pipeline_in_process

pytestmark = pytest.mark.django_db


def _every_stored_text():
    """Every text value in every table of the database."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                values += [value for value in row if isinstance(value, str)]
    return values


@pytest.mark.parametrize("output_format", ["jpeg", "png"])
def test_private_delivery_stores_no_provider_url(engine, alice, fast_pipeline, output_format):
    job = run_pipeline_in_process(make_job(alice, return_base64=True, output_format=output_format))

    assert job.status == JobStatus.COMPLETED, job.error_message
    assert job.results.count() >= 1
    stats = engine.stats()
    assert stats["output_calls"] == 0  # nothing downloaded from the provider's URL
    stored = _every_stored_text()
    assert not [value for value in stored if engine.url in value or "/v1/outputs/" in value]
    assert not [value for value in stored if value.startswith(("http://", "https://"))]


def test_without_private_delivery_the_output_url_is_fetched_once_and_not_stored(
    engine, alice, fast_pipeline
):
    job = run_pipeline_in_process(make_job(alice, return_base64=False))

    assert job.status == JobStatus.COMPLETED, job.error_message
    assert engine.stats()["output_calls"] == job.results.count()
    assert not [value for value in _every_stored_text() if "/v1/outputs/" in value]
    assert AvatarJob.objects.get(pk=job.pk).return_base64 is False
