# Copyright header.
# Second line of the header.

# Attached to the coroutine.
async def f() -> None:
    import time
    time.sleep(1)
    import asyncio
    asyncio.create_task(f())
