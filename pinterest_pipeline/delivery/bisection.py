"""Finding the events that make Pinterest refuse a whole request (docs/delivery.md).

A 400 names a problem ("Additional properties are not allowed ('category_name' was unexpected)")
but not which of up to 1000 events has it, and one bad event sinks the other 999. The chunk is split
in halves and each half is sent on its own: a half that is accepted is read per event as usual, a half
refused again is split further, down to single events, which are the offending ones. One bad event in
n costs two requests per halving, about 2*log2(n) in all (20 for 1000); the good events are delivered
along the way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pinterest_pipeline.delivery.chunks import EventChunk
from pinterest_pipeline.delivery.http_client import Answer

Post = Callable[[EventChunk], Awaitable[Answer]]
Settle = Callable[[EventChunk, Answer], Awaitable[None]]


async def isolate_invalid(chunk: EventChunk, refusal: Answer, *, post: Post, settle: Settle, reject: Settle) -> None:
    """Settle `chunk`, refused whole with `refusal`: `reject` single culprits, `settle` every half's answer.

    `settle` is expected to come back here for a half that is refused again.
    """
    if len(chunk) == 1:
        await reject(chunk, refusal)
        return
    for half in chunk.halves():
        await settle(half, await post(half))
