"""The pure core: rules of time and error kinds that need no database, no Flask, no I/O.

Working time and business times (R21), the errors every layer raises, and the drawing of
charts, timelines and maps as SVG. Everything above may import it; it imports nothing of
partsvc outside itself (docs/ARCHITECTURE.md).
"""
