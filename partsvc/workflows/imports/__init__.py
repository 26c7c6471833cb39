"""CSV imports for a clerk's first day: the parts catalogue and the opening stock."""
