"""Buying parts: vendor orders and their ETAs, part requests and backorders, reorder rules."""
