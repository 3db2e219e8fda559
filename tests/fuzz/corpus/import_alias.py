import time as t


async def backoff(attempt: int) -> None:
    t.sleep(2 ** attempt)


async def method_owner() -> None:
    class Retry:
        async def wait(self) -> None:
            t.sleep(0.1)

    await Retry().wait()
