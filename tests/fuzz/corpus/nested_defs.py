import time


async def outer() -> None:
    def helper() -> None:
        time.sleep(1)  # sync def: leave alone

    class Config:
        time.sleep(0)

    helper()
    time.sleep(2)


def sync_outer() -> None:
    async def inner() -> None:
        time.sleep(3)

    time.sleep(4)
    del inner


async def default_argument(delay: float = time.sleep(0) or 1.0) -> None:
    time.sleep(delay)
