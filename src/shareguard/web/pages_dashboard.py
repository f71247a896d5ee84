"""The DPO's dashboard: decisions over time, top external recipients,
people's data sent per agreement, held items waiting and their age.

Figures come from the audit log's aggregates over the last ``DAYS`` days
and from the approval queue; the charts are plain server-rendered SVG bars.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from shareguard.store.approvals import ApprovalStore
from shareguard.store.audit import AuditLog
from shareguard.web.portal import Portal, page, portal_of
from shareguard.web.submissions import age_text

router = APIRouter()

DAYS = 30
RECIPIENTS_READ = 100  # read more than TOP: internal addresses are dropped after
TOP = 10
DECISIONS = ("allow", "minimise", "hold", "block")
AGE_BUCKETS = (("under 1 day", 1), ("1–3 days", 3), ("3–7 days", 7), ("over 7 days", None))


def _bars(counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Label, value and width (percent of the largest) for an SVG bar."""
    top = max((v for _, v in counts), default=0) or 1
    return [{"label": k, "value": v, "width": round(100 * v / top, 1)} for k, v in counts]


def dashboard_data(portal: Portal, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=DAYS - 1)).date()
    since = datetime.combine(start, time(), UTC)
    log = AuditLog(portal.engine)
    policy = portal.disclosures.policy()
    # Aggregates over the indexed columns: the cost does not grow with the
    # number of records in the window.
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for day, decision, n in log.decisions_per_day(since):
        per_day[day][str(decision)] += n
    external = [
        (a, n)
        for a, n in log.recipient_counts(since, limit=RECIPIENTS_READ)
        if not policy.is_internal(a)
    ][:TOP]
    sent: Counter[str] = Counter(dict(log.people_per_agreement(since)))
    store = ApprovalStore(portal.engine)
    for a in store.list(status="approved") + store.list(status="released"):
        if a.agreement_id and a.decided_at and a.decided_at >= since:
            sent[a.agreement_id] += int(a.summary.get("data_subjects") or 0)
    days = [start + timedelta(days=i) for i in range(DAYS)]
    top_day = max((sum(per_day[d].values()) for d in days), default=0) or 1
    held = store.list(status="held")
    buckets: Counter[str] = Counter()
    for a in held:
        age_days = (now - a.created_at).total_seconds() / 86400
        label = next(lbl for lbl, limit in AGE_BUCKETS if limit is None or age_days < limit)
        buckets[label] += 1
    return {
        "days": DAYS,
        "decisions_per_day": [
            {
                "day": d.isoformat(),
                "total": sum(per_day[d].values()),
                "height": round(100 * sum(per_day[d].values()) / top_day, 1),
                **{k: per_day[d][k] for k in DECISIONS},
            }
            for d in days
        ],
        "top_recipients": _bars(external),
        "people_sent_per_agreement": _bars(sent.most_common(TOP)),
        "held_waiting": len(held),
        "held_by_age": _bars([(lbl, buckets[lbl]) for lbl, _ in AGE_BUCKETS]),
        "oldest_held": [
            {"id": a.id, "age": age_text(a.created_at, now), "created_at": a.created_at}
            for a in held[:5]
        ],
    }


@router.get("/dashboard")
@router.get("/dashboard.json")
async def dashboard(request: Request) -> Response:
    data = await run_in_threadpool(dashboard_data, portal_of(request))
    return page(request, "dashboard.html", data)
