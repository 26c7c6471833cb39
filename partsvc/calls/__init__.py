"""Customers, sites, contracts, engineers and service calls."""
