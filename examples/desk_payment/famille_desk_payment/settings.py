"""``[plugins.desk_payment]``: the secret shared with the cash register, which signs its answers
(HMAC-SHA256 of ``"<transaction id>:<montant>:<recu>"``, hex)."""

import hmac

from attrs import frozen


@frozen(kw_only=True)
class DeskSettings:
    """Empty ``secret``: no desk answer is ever accepted."""

    secret: str = ""

    def signed(self, transaction_id, montant, recu, signature):
        """The answer comes from the cash register: ``signature`` is its hex HMAC-SHA256."""
        expected = hmac.new(self.secret.encode(), f"{transaction_id}:{montant}:{recu}".encode(), "sha256")
        return bool(self.secret) and hmac.compare_digest(expected.hexdigest(), signature)


def settings_of(portal):
    """The plugin's settings."""
    return portal.config_for("desk_payment")
