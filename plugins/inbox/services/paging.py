"""Pages of a list (the family's inbox, a service's mailbox)."""

from __future__ import annotations

import math

from attrs import frozen


@frozen
class Paging:
    """Which page is shown, of how many."""

    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, requested: int, total: int, size: int) -> Paging:
        """Clamp ``requested`` to the existing pages (page 1 when there is nothing)."""
        pages = max(1, math.ceil(total / size))
        return cls(page=min(max(1, requested), pages), pages=pages, total=total)

    def offset(self, size: int) -> int:
        """Rows to skip for this page."""
        return (self.page - 1) * size
