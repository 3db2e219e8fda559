import asyncio

_background_tasks = ["not", "a", "set"]


async def job() -> None:
    await asyncio.sleep(0)


async def main() -> None:
    asyncio.create_task(job())
    print(len(_background_tasks))
