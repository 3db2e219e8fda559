import asyncio


async def job() -> None:
    await asyncio.sleep(0)


async def running() -> None:
    loop = asyncio.get_running_loop()
    loop.create_task(job())
    asyncio.get_running_loop().create_task(job())


async def unknown_loop(loop, event_loop) -> None:
    loop.create_task(job())
    event_loop.create_task(job())


class Service:
    def __init__(self, loop) -> None:
        self.loop = loop

    def start(self) -> None:
        self.loop.create_task(job())
