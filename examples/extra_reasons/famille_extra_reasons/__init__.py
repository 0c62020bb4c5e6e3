"""An external plugin, installed through its own entry point and enabled by name.

It adds the absence reason "RENDEZ-VOUS MEDICAL PROGRAMME" (not billed) to the default list,
without any change to the core. It follows the plugin skeleton (docs/plugins.md): its hook
implementations live in :mod:`famille_extra_reasons.plugin`, the entry point. It needs no
settings, pages, commands or demo data, so it has none of those files. Enable it with::

    [portal]
    plugins = ["profile", "inbox", "calendar", "billing", "tipi_payment", "extra_reasons"]
"""
