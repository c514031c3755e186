"""The credits ledger: what each job reserved from FASHN credits and what it was charged.

One ``CreditUse`` row per use of credits by a job (its creation, and each retry of a failed
avatar). Rows keep the job's id as a plain UUID and let the owner go to NULL, so deleting a job or
an account does not remove what it cost: the daily allowance (``avatars.quota``) and the
operations dashboard (``ops.figures``) read their credit figures here.
"""
