"""Signals other apps listen to, so the avatars app never imports them.

``job_finished`` is sent once a job reaches ``completed`` or ``failed``, after the transaction
that recorded it has committed, with ``job_id`` and ``status``. Receivers run in the worker that
finished the job: they must be quick (schedule a task, do not make HTTP calls).
"""

from django.dispatch import Signal

job_finished = Signal()
