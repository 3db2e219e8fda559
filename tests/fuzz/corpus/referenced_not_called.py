import asyncio
import time


async def offload() -> None:
    await asyncio.to_thread(time.sleep, 1)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, time.sleep, 0.5)
    sleeper = time.sleep
    if sleeper is time.sleep:
        print(time.sleep.__name__)
