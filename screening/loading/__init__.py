"""From YAML files to validated specs: safe parsing, every problem reported at once."""

from .resources import builtin_dir
from .scale_checks import parse_scale
from .yamlfile import read_yaml

__all__ = ["builtin_dir", "parse_scale", "read_yaml"]
