import time


def outer(asyncio):
    async def inner() -> None:
        time.sleep(1)
        asyncio.create_task(inner())

    return inner


class Holder:
    asyncio = None

    async def method(self) -> None:
        time.sleep(2)


async def rebinding() -> None:
    time.sleep(3)
    asyncio = "not a module"
    print(asyncio)


async def comprehension_binding(items) -> None:
    [time.sleep(asyncio) for asyncio in items]
