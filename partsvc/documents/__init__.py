"""Printable documents (PRODUCT.md section 7): ``render`` turns a template into a PDF,
``papers`` gathers what each document shows; ``api.documents`` and ``web.prints`` serve
them."""

from partsvc.documents.render import render_pdf

__all__ = ["render_pdf"]
