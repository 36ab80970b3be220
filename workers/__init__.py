"""Celery workers: the app (celery_app.py) and thin tasks (tasks.py) that call consolidation."""
