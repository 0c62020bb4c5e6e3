"""An external plugin, installed through its own entry point and enabled by name.

It adds the absence reason "RENDEZ-VOUS MEDICAL PROGRAMME" (not billed) to the default list,
without any change to the core. Enable it with::

    [portal]
    plugins = ["profile", "inbox", "calendar", "tipi_payment", "extra_reasons"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famille_core import hookimpl
from famille_core.entities import AbsenceReason

EXTRA_REASON = AbsenceReason(
    code="RDV_MEDICAL", label="RENDEZ-VOUS MEDICAL PROGRAMME", billable=False
)


@hookimpl
def absence_reasons(portal: Any, child: Any, activity: Any) -> Sequence[AbsenceReason]:
    return [EXTRA_REASON]
