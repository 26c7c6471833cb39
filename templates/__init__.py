"""The Jinja templates of the pages and printed documents.

They sit at the top of the repository and ship inside the wheel as ``partsvc.templates``
(pyproject.toml maps the folder); the app finds them through that package.
"""
