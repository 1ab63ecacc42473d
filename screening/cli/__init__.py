"""The ``screening`` command line (``python -m screening``): sub-commands over the public API.

``commands.py`` holds the parser and the core commands; the sub-commands over the side packages live
here too (``fhir.py``, ``warning.py``, ``audit.py``, ``archive.py``), so no side package imports the CLI.
"""

from .commands import _screen_options, build_parser, main, read_table, write_table

__all__ = ["build_parser", "main", "read_table", "write_table", "_screen_options"]
