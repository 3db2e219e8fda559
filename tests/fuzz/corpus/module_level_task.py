import asyncio


async def job() -> None:
    await asyncio.sleep(0)


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
asyncio.ensure_future(job())
loop.run_until_complete(asyncio.sleep(0))
