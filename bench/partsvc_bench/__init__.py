"""The Solomon VRPTW benchmark of the planner's solver core, outside the product.

Installed beside `partsvc` so that `partsvc bench vrptw FILE` runs from any folder; the
product never imports it (import-linter keeps it so).
"""
