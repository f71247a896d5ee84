"""Breach response: incidents from recorded disclosures (or files that left
by another route), the affected people, ENISA severity, the regulator's
report, letters and the recipient's deletion, inside the 72-hour clock.

The service for the CLI and the web portal is :class:`Incidents`."""

from shareguard.breach.incidents import IncidentError, Incidents

__all__ = ["IncidentError", "Incidents"]
