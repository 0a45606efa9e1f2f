"""Kenning: private, on-device semantic search for the files on your computer.

The engine never imports Qt. Its entry object is :class:`kenning.engine.Engine`.
"""

__version__ = "0.1.0"
