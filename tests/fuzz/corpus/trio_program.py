import time

import trio


async def child() -> None:
    time.sleep(0.1)


async def main() -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(child)


trio.run(main)
