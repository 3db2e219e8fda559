"""Four coroutines, gathered, each calling a blocking helper from another module: they run one
after another until the helper runs in a thread."""

import asyncio

from reports import render


async def report(name):
    text = render(name)
    return f"{name} -> {text}"


async def main():
    for line in await asyncio.gather(*(report(name) for name in ["ann", "bob", "cid", "dee"])):
        print(line)


asyncio.run(main())
