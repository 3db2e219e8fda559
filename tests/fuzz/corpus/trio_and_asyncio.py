import asyncio
import time

import trio


async def on_trio() -> None:
    time.sleep(1)
    await trio.sleep(0)


async def on_asyncio() -> None:
    time.sleep(1)
    await asyncio.sleep(0)
