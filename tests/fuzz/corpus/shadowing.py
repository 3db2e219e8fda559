import time
from time import sleep


class FakeClock:
    def sleep(self, seconds: float) -> None:
        pass


async def shadowed_module() -> None:
    time = FakeClock()
    time.sleep(1)


async def shadowed_parameter(sleep) -> None:
    sleep(1)


async def not_shadowed() -> None:
    global time
    time.sleep(2)


def sync_user() -> None:
    sleep(0)
