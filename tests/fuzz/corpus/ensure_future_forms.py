import asyncio
import asyncio as aio
from asyncio import ensure_future, create_task as ct


async def job() -> None:
    await asyncio.sleep(0)


async def main(fut: "asyncio.Future[int]") -> None:
    aio.ensure_future(job())
    ensure_future(job())
    ct(job())
    asyncio.ensure_future(fut)
    asyncio.tasks.create_task(job())


def on_message(payload: bytes) -> None:
    asyncio.ensure_future(job())
