"""``famille inbox-clean``: remove attachment files that no message refers to.

A file is written before its message's transaction commits; when that transaction fails (or a
row is deleted by hand), the file stays behind. Files younger than a grace period are kept: they
may belong to a message being sent right now.
"""

from __future__ import annotations

import time
from pathlib import Path

from attrs import frozen

from famille_core.entities import Attachment
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_core.uploads import attachment_dir


@frozen
class CleanReport:
    """What the cleaning found."""

    orphans: tuple[Path, ...]
    missing: int
    """Attachment rows whose file is gone (reported, never deleted)."""


def clean_orphans(
    portal: Portal, uow: UnitOfWork, *, grace_seconds: int = 3600, dry_run: bool = False
) -> CleanReport:
    """Delete (unless ``dry_run``) the orphan files older than ``grace_seconds``."""
    folder = attachment_dir(portal)
    known = {Path(item.storage_key).name for item in uow.find(Attachment)}
    present = {path.name: path for path in folder.iterdir() if path.is_file()} if folder.is_dir() else {}
    limit = time.time() - grace_seconds
    orphans = tuple(
        sorted(
            path
            for name, path in present.items()
            if name not in known and path.stat().st_mtime < limit
        )
    )
    if not dry_run:
        for path in orphans:
            path.unlink(missing_ok=True)
    missing = sum(1 for name in known if name not in present)
    return CleanReport(orphans=orphans, missing=missing)

