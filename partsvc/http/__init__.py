"""What the API and the pages share about HTTP: the request's context (clock, session,
caller, settings, calendar), problem+json answers, bad-input guards, security headers,
rate limits, and the health, readiness and metrics endpoints."""
