import asyncio


async def work(n: int) -> int:
    await asyncio.sleep(n)
    return n


async def main() -> None:
    asyncio.create_task(work(1))
    asyncio.create_task(work(2), name="second")  # keep this comment
    asyncio.create_task(
        work(3),
        name="third",
    )
    (asyncio.create_task(work(4)))
    asyncio.ensure_future(work(5))
    task = asyncio.create_task(work(6))
    await task
