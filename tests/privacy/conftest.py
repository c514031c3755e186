import pytest

from avatar_studio.avatars.pipeline import steps


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    pass


def stored_files(media_root):
    """Every file under MEDIA_ROOT, as names relative to it."""
    return sorted(
        str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
    )


def run_pipeline_in_process(job, timeout=30.0):
    """Run a job's submit and poll steps in this process, as the worker would, until it ends.

    The steps' own task messages are sent on commit, which never comes in a ``django_db`` test,
    so nothing else runs them.
    """
    import time

    from avatar_studio.avatars.models import AvatarJob, JobStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = AvatarJob.objects.get(pk=job.pk)
        if fresh.is_terminal:
            return fresh
        if fresh.step_token is not None:
            if fresh.status == JobStatus.QUEUED:
                steps.submit_job(fresh.pk, fresh.step_token)
            else:
                steps.poll_job(fresh.pk, fresh.step_token)
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} did not finish in {timeout} s")
