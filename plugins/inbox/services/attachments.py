"""Attachments (pièces jointes) of the inbox: the portal's upload rules
(:mod:`famille_core.uploads`), which the calendar's justificatifs share, under the inbox's names."""

from famille_core.uploads import (
    FIELD,
    FOLDER,
    IMAGE_TYPES,
    MAX_NAME_CHARS,
    PDF,
    CheckedFile,
    Upload,
    attachment_dir,
    attachment_path,
    check_file,
    check_files,
    delete,
    read,
    safe_filename,
    shown_name,
    store,
)

__all__ = [
    "FIELD",
    "FOLDER",
    "IMAGE_TYPES",
    "MAX_NAME_CHARS",
    "PDF",
    "CheckedFile",
    "Upload",
    "attachment_dir",
    "attachment_path",
    "check_file",
    "check_files",
    "delete",
    "read",
    "safe_filename",
    "shown_name",
    "store",
]
