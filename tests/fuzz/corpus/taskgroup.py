import asyncio


async def job(n: int) -> None:
    await asyncio.sleep(n)


async def main() -> None:
    async with asyncio.TaskGroup() as tg:
        tg.create_task(job(1))
        tg.create_task(job(2))

    group = asyncio.TaskGroup()
    async with group:
        group.create_task(job(3))
    callback = lambda: asyncio.create_task(job(4))
    tasks = [asyncio.create_task(job(i)) for i in range(3)]
    await asyncio.gather(*tasks, callback())
