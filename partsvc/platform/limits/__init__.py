"""Rate limits shared by every process: fixed-window counters in Redis or the database."""
