"""Kenning's desktop app (PySide6): a thin layer over `kenning.engine` and `kenning.service`.

One widget or dialog per module; `app.main()` wires them together.
"""
