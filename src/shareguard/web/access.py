"""Who may use which route: one table, enforced for every request.

Every route of the app is looked up here by (method, path template) before its
handler runs; a route missing from the table is refused to everyone (fail
closed), and ``tests/web/test_access.py`` walks every registered route with
every role to hold the table and the app to each other.  A JSON twin
(``/approvals.json``) and a CSV export share their page's entry.
"""

from __future__ import annotations

from typing import Final

from shareguard.web.auth import ROLES

# Marker for routes open without signing in.
PUBLIC: Final = frozenset({"*"})
SIGNED_IN: Final = frozenset(ROLES)
APPROVERS: Final = frozenset({"approver", "dpo", "admin"})
DPO: Final = frozenset({"dpo", "admin"})
ADMIN: Final = frozenset({"admin"})

GET, POST = "GET", "POST"

ROUTES: dict[tuple[str, str], frozenset[str]] = {
    # machine API: a bearer token (`shareguard users token`) or a session
    (GET, "/healthz"): PUBLIC,
    (POST, "/v1/scan"): SIGNED_IN,
    (POST, "/v1/check"): SIGNED_IN,
    # signing in and out
    (GET, "/login"): PUBLIC,
    (POST, "/login"): PUBLIC,
    (POST, "/logout"): SIGNED_IN,
    (GET, "/account"): SIGNED_IN,
    (POST, "/account/password"): SIGNED_IN,
    (GET, "/"): SIGNED_IN,
    # senders
    (GET, "/check"): SIGNED_IN,
    (POST, "/check"): SIGNED_IN,
    (GET, "/submissions"): SIGNED_IN,
    (GET, "/submissions/rows"): SIGNED_IN,
    (POST, "/submissions/{approval_id}/request"): SIGNED_IN,
    (GET, "/submissions/{approval_id}/minimised"): SIGNED_IN,
    # approvers
    (GET, "/approvals"): APPROVERS,
    (GET, "/approvals/{approval_id}"): APPROVERS,
    (POST, "/approvals/{approval_id}/decide"): APPROVERS,
    # data protection officer
    # (approvers read the agreements they approve under; the DPO changes them)
    (GET, "/agreements"): APPROVERS,
    (GET, "/agreements/new"): DPO,
    (POST, "/agreements"): DPO,
    (GET, "/agreements/{agreement_id}"): APPROVERS,
    (GET, "/agreements/{agreement_id}/edit"): DPO,
    (GET, "/agreements/{agreement_id}/diff"): APPROVERS,
    (GET, "/audit"): DPO,
    (POST, "/audit"): DPO,
    (GET, "/audit/verify"): DPO,
    (GET, "/dashboard"): DPO,
    (GET, "/incidents"): DPO,
    (POST, "/incidents"): DPO,
    (GET, "/incidents/{incident_id}"): DPO,
    (POST, "/incidents/{incident_id}/factor"): DPO,
    (POST, "/incidents/{incident_id}/status"): DPO,
    (POST, "/incidents/{incident_id}/documents"): DPO,
    # administrators
    (GET, "/users"): ADMIN,
}

_TWIN_SUFFIXES = (".json", ".csv")


def allowed_roles(method: str, path: str) -> frozenset[str] | None:
    """The roles allowed on a route (``PUBLIC`` for everyone), or None when
    the route is not in the table."""
    method = "GET" if method == "HEAD" else method
    found = ROUTES.get((method, path))
    if found is not None:
        return found
    for suffix in _TWIN_SUFFIXES:
        if path.endswith(suffix):
            return ROUTES.get((method, path.removesuffix(suffix)))
    return None


def is_allowed(roles: frozenset[str] | None, role: str | None) -> bool:
    if roles is None:
        return False
    return roles is PUBLIC or (role is not None and role in roles)
