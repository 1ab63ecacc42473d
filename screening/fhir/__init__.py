"""HL7 FHIR exchange: QuestionnaireResponse in, Observations out, and the referral package (转介单).

FHIR stays plain JSON here (dicts and lists): the library needs no FHIR
package. The tests validate everything written against the R4B models of
``fhir.resources``. See ``docs/fhir.md``.
"""

from ..intake.fhir import read_fhir, response_ref_col
from .write import to_fhir

__all__ = ["read_fhir", "referral", "response_ref_col", "to_fhir"]


def __getattr__(name: str) -> object:
    if name == "referral":  # jinja-free, but keeps the HTML code out of `import screening.fhir`
        from .referral import referral

        return referral
    raise AttributeError(f"module 'screening.fhir' has no attribute {name!r}")
