"""The JSON API under /api/v1: one module of endpoints per business area, each with its
schemas beside it (``<area>_schemas.py``), on the ``Resource`` pipeline (``resource.py``:
token, roles, one unit of work, Idempotency-Key, audit). An edge: it calls the workflows
and the domains, and nothing below imports it (docs/ARCHITECTURE.md).
"""
