"""Use cases. Each service takes the portal, a unit of work and the :class:`Actor`, checks what
the actor may do, applies the rules and the hooks, and never trusts the caller's view."""
