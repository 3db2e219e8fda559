import sys
import time

if sys.platform == "win32":
    import asyncio

try:
    import uvloop
except ImportError:
    uvloop = None


async def wait() -> None:
    time.sleep(1)
    asyncio.create_task(wait())
