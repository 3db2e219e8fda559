"""Post-checkout side effects: confirmation email, Slack ping, analytics.

`handle_checkout` has to return quickly, so the side effects are scheduled as
background tasks instead of being awaited inline.
"""

import asyncio
import json
import logging
import time as t

log = logging.getLogger("order_notifier")


async def send_email(to: str, subject: str) -> None:
    t.sleep(0.3)  # SMTP relay round trip (client library is synchronous)
    log.info("emailed %s: %s", to, subject)


async def post_to_slack(channel: str, text: str) -> None:
    t.sleep(0.1)
    if not channel.startswith("#"):
        raise ValueError(f"bad channel name: {channel!r}")
    log.info("slack %s: %s", channel, text)


async def track(event: str, **props) -> None:
    log.debug("analytics %s", json.dumps({"event": event, **props}))


async def save_order(order: dict) -> int:
    await asyncio.sleep(0.01)  # stands in for the database insert
    return order["id"]


async def handle_checkout(order: dict) -> int:
    order_id = await save_order(order)

    # Fire-and-forget: the customer shouldn't wait for any of these.
    # (Nothing keeps a reference to these tasks; the event loop only holds
    # them weakly, so they can be garbage-collected before they finish.)
    asyncio.create_task(send_email(order["email"], f"Order #{order_id} confirmed"))
    # Bug: "sales" is missing its "#", so this task raises ValueError. Nobody
    # awaits it, so the only trace is a "Task exception was never retrieved"
    # log line whenever the garbage collector happens to reach the task.
    asyncio.ensure_future(post_to_slack("sales", f"New order #{order_id}"))
    loop = asyncio.get_running_loop()
    loop.create_task(track("checkout", order_id=order_id, total=order["total"]))

    return order_id


class DigestSender:
    """Batches low-priority updates into one email every few seconds.

    Its task is stored on the instance and awaited in `stop()`, so it is not
    a dangling task and asyncmod leaves it alone.
    """

    def __init__(self) -> None:
        self.pending: list[str] = []
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self.pending:
                await send_email("ops@example.com", f"{len(self.pending)} updates")
                self.pending.clear()


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    digest = DigestSender()
    digest.start()
    for i in range(3):
        order = {"id": 1000 + i, "email": f"user{i}@example.com", "total": 42.0}
        await handle_checkout(order)
    await asyncio.sleep(1)  # give the background work a chance to finish
    await digest.stop()


if __name__ == "__main__":
    asyncio.run(main())
