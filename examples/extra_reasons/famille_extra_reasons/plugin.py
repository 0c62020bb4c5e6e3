"""Hook implementations of the ``extra_reasons`` example plugin: one more absence reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famille_core import hookimpl
from famille_core.entities import AbsenceReason


@hookimpl
def absence_reasons(portal: Any, child: Any, activity: Any) -> Sequence[AbsenceReason]:
    """"RENDEZ-VOUS MEDICAL PROGRAMME", not billed, next to the default reasons."""
    return [AbsenceReason(code="RDV_MEDICAL", label="RENDEZ-VOUS MEDICAL PROGRAMME", billable=False)]
