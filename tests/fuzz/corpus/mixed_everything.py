"""Both transforms in one module."""
import asyncio
import time


async def job() -> None:
    time.sleep(0)


async def main() -> None:
    asyncio.create_task(job())
    time.sleep(1)
    asyncio.create_task(asyncio.sleep(time.sleep(0) or 1))
    await asyncio.gather(job(), job())
