"""The machinery every layer stands on: the database and its migrations, settings, logs,
metrics, the package's own files, validation bases, notification channels and the
rate-limit counters. It knows nothing of stock, calls or plans (docs/ARCHITECTURE.md).
"""
