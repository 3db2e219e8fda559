from time import *


async def f() -> str:
    sleep(0.01)
    import asyncio
    await asyncio.sleep(0)
    time.sleep(0.02)
    return "ok"


import time
