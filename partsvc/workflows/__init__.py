"""Work that spans domains: booking stock moves for a document, completing a call, an
engineer's day, planning a day (in process or on the queue), the sweep, the month's
figures, a serial's history and the first-day CSV imports. Edges call these; the domains
below never import them (docs/ARCHITECTURE.md).
"""
