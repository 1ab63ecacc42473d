"""The ``screening`` command line (``python -m screening``): sub-commands over the public API.

``commands.py`` holds the parser and the core commands; the side packages register their own
(``fhir/cli.py``, ``warning/cli.py``, ``audit/``, ``archive/cli.py``).
"""

from .commands import _screen_options, build_parser, main, read_table, write_table

__all__ = ["build_parser", "main", "read_table", "write_table", "_screen_options"]
