"""Scoring: load a scale (built-in id, YAML file or mapping) and score a table of responses with it.

- ``scale.py`` — :class:`Scale`, the loaded, compiled scale every layer above passes around.
- ``frame.py`` — the one engine entry point: a loaded scale and responses in, the public score frame out.
- ``examples.py`` — the worked-example check every scale file must pass to load (scored through ``frame.py``).
- ``catalog.py`` — :func:`load_scale` / :func:`list_scales`: YAML (``loading/``) → compiled (``engine/``) → checked.
- ``api.py`` — the public :func:`score`, :func:`output_schema`, :func:`empty_output`.
"""

from .api import ScaleLike, empty_output, output_schema, score
from .catalog import list_scales, load_scale
from .frame import OnInvalid, ResponseFormat
from .scale import Scale, content_hash

__all__ = [
    "Scale", "ScaleLike", "content_hash", "load_scale", "list_scales",
    "score", "output_schema", "empty_output", "ResponseFormat", "OnInvalid",
]
