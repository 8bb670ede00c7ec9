"""How deliveries ended, as the delivery worker reports them: receipts for staff, failures in the thread."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from bot.consultations.fanout import is_bulk
from bot.consultations.live_results import record_results_posts
from bot.model import CitizenReply, Delivery, DeliveryState, PostKind, ReplyKind, Sent, Side, ThreadPost
from bot.relay.casework import BRIDGE, Casework
from bot.relay.stranded import rehome


async def record_sent(work: Casework, results: Sequence[tuple[Delivery, Sent]]) -> None:
    """Record the sends; a staff reply that reached the citizen gets a receipt in its thread."""
    await work.tx.complete_all(results)
    await record_results_posts(work.tx, results)
    for delivery, _sent in results:
        await _receipt(work, delivery)


async def _receipt(work: Casework, delivery: Delivery) -> None:
    """A staff reply the citizen now has: mark it delivered in its thread."""
    body = delivery.body
    if not (isinstance(body, CitizenReply) and body.kind is ReplyKind.STAFF and delivery.message_id):
        return
    context = await work.tx.receipt_context(delivery.message_id)
    if context is None:
        return
    case, citizen, source = context
    if source is not None:
        await work.post(case, PostKind.RECEIPT, text="delivered", author=BRIDGE, citizen=citizen, about=source)


async def record_failure(work: Casework, delivery: Delivery, reason: str, *, gone: bool = False) -> None:
    """Record a permanent failure; staff are told in the case's thread when a citizen could not be reached.

    A broadcast that found the citizen ``gone`` (bot blocked, account deleted, web chat ended) unsubscribes them.
    """
    await work.tx.set_delivery(delivery.id, state=DeliveryState.FAILED, last_error=reason)
    if gone and is_bulk(delivery):
        await work.tx.unsubscribe(delivery.target)
        await work.tx.drop_pending(delivery.lane)
    if delivery.side is Side.CITIZEN and delivery.case_id is not None:
        case = await work.tx.case(delivery.case_id)
        if case is not None and case.department is not None:
            await work.system(case, texts.DELIVERY_FAILED.format(reason=reason))
    body = delivery.body
    root = delivery.side is Side.DEPARTMENT and isinstance(body, ThreadPost) and body.kind is PostKind.ROOT
    if root and delivery.case_id is not None:  # the case must not stay stranded without a thread
        await rehome(work, delivery.case_id, reason)
