async def plain() -> None:
    import time
    time.sleep(1)


async def aliased() -> None:
    import time as clock
    clock.sleep(2)


async def from_form() -> None:
    from time import sleep
    sleep(3)


async def one_liner() -> None:
    import time; time.sleep(1)


async def still_used() -> float:
    import time
    time.sleep(5)
    return time.monotonic()
