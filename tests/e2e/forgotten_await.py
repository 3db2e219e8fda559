"""The article's tip 3: a coroutine called without await never runs.

Before `asyncmod fix --unsafe-fixes` the notification is never sent (Python only warns that the
coroutine was never awaited); after it, it is.
"""
import asyncio
import warnings

SENT = []


async def send_notification(order_id: int) -> None:
    await asyncio.sleep(0)
    SENT.append(order_id)


async def save_order(order_id: int) -> None:
    await asyncio.sleep(0)


async def process_order(order_id: int) -> None:
    await save_order(order_id)
    send_notification(order_id)


async def main() -> None:
    for order_id in (1, 2, 3):
        await process_order(order_id)
    print("notifications sent:", SENT)


if __name__ == "__main__":
    warnings.simplefilter("ignore", RuntimeWarning)
    asyncio.run(main())
