"""Signals other apps listen to, so the avatars app never imports them.

``job_finished`` is sent once a job reaches ``completed`` or ``failed``, after the transaction
that recorded it has committed, with ``job_id`` and ``status``. Receivers run in the worker that
finished the job: they must be quick (schedule a task, do not make HTTP calls).

``job_ending`` is sent just before, inside the transaction that records the end, with ``job_id``,
``status`` and ``credits_used`` (what FASHN reported for a completed job, else None): what its
receivers write commits with the job's end or not at all, and an error in one undoes the end.
Keep them to a few small writes (the credits ledger's settlement).
"""

from django.dispatch import Signal

job_finished = Signal()
job_ending = Signal()
