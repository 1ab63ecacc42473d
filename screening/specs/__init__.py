"""Pure pydantic specifications of the library's YAML formats (no numpy, no I/O)."""

from .common import Op, Source, StrictModel, Text
from .scale import SPEC_VERSION, ScaleSpec

__all__ = ["Op", "Source", "StrictModel", "Text", "SPEC_VERSION", "ScaleSpec"]
