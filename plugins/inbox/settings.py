"""Settings of the inbox plugin (``[plugins.inbox]`` in the configuration)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define, field

if TYPE_CHECKING:
    from famille_core.portal import Portal

NAME = "inbox"
"""The plugin's name: its entry point, its ``[plugins.inbox]`` table."""


def _positive(_instance: Any, attribute: Any, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} doit être positif")


@define(kw_only=True)
class InboxSettings:
    """``[plugins.inbox]``.

    The mailboxes are the collectivity's services (``[collectivity] services``). ``routing``
    sends a new conversation whose title contains a keyword to a service, e.g.
    ``routing = { cantine = "ENFANCE", "école" = "SCOLAIRE" }``; otherwise the ``route_message``
    hook (another plugin, then the built-in default: the first service) decides.
    """

    page_size: int = field(default=20, validator=_positive)
    """Messages per page of the "Boîte de réception" and conversations per mailbox page."""
    max_subject_chars: int = field(default=150, validator=_positive)
    max_body_chars: int = field(default=10_000, validator=_positive)
    max_attachment_bytes: int = field(default=5 * 1024 * 1024, validator=_positive)
    """Largest attachment accepted (bytes); the whole request is also capped by the host."""
    max_attachments: int = field(default=3, validator=_positive)
    max_image_pixels: int = field(default=40_000_000, validator=_positive)
    """Largest width × height of an attached image, checked from its header before decoding."""
    routing: dict[str, str] = field(factory=dict)
    """Keyword of the title (case-insensitive) → service."""
    service_emails: dict[str, str] = field(factory=dict)
    """Service → address told about new messages; without one, the service's agents are told."""
    private_notifications: bool = False
    """``true``: e-mails say only "vous avez un nouveau message" and give a link, never the text."""


def settings_of(portal: Portal) -> InboxSettings:
    """The validated ``[plugins.inbox]`` settings of ``portal``."""
    settings: InboxSettings = portal.config_for(NAME)
    return settings
