"""The workforce profile instead of the list: a held item whose agreement
allows aggregates only can be downloaded as its minimised form.

Made on demand from the quarantined original (nothing extra is stored), for
the item's own sender only.  The minimisation itself is
:func:`shareguard.transform.minimise_bytes`; when that package is not
installed the portal gives the advice without the download.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from typing import Any

from shareguard.errors import ShareGuardError
from shareguard.policy.agreements import Agreement
from shareguard.store.agreements import AgreementStore
from shareguard.store.approvals import Approval
from shareguard.store.quarantine import Quarantine
from shareguard.web.portal import Portal

PROFILE_MODE = "profile"


def _transform() -> Any | None:
    try:
        module = importlib.import_module("shareguard.transform")
    except ImportError:
        return None
    if hasattr(module, "minimise_bytes") and hasattr(module, "profile_options_for"):
        return module
    return None


def available() -> bool:
    return _transform() is not None


def _agreement(portal: Portal, item: Approval) -> Agreement | None:
    if item.agreement_id is None:
        return None
    stored = AgreementStore(portal.engine).get(item.agreement_id, item.agreement_version or 0)
    if stored is None:
        return None
    agreement = Agreement.model_validate(stored.parsed)
    return agreement if agreement.aggregates_only else None


def make(portal: Portal, item: Approval) -> tuple[bytes, str, str] | None:
    """(content, file name, media type) of the minimised files of a held
    item: one file as itself, several as a zip.  None when not offered."""
    transform = _transform()
    agreement = _agreement(portal, item)
    if transform is None or agreement is None or item.quarantine_id is None:
        return None
    options = transform.profile_options_for(agreement)
    if options is None:
        return None
    bundle = Quarantine(portal.engine, portal.settings.secret_key_bytes()).get(item.quarantine_id)
    results = []
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        for name in z.namelist():
            try:
                results.append(
                    transform.minimise_bytes(
                        z.read(name), name, PROFILE_MODE, options, portal.settings
                    )
                )
            except ShareGuardError:
                continue  # a file that cannot be profiled is left out, not sent raw
    if not results:
        return None
    if len(results) == 1:
        r = results[0]
        return bytes(r.content), str(r.filename), str(r.media_type)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for r in results:
            z.writestr(str(r.filename), bytes(r.content))
    return out.getvalue(), "minimised.zip", "application/zip"
