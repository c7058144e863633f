"""The sink workers: a Celery app whose one task unseals a delivery and runs its sink.

Workers hold the transport key and nothing more: no master key, no database, no secret store.
Start one with `hubctl worker` (or `celery -A workers.app worker`).
"""
