from time import monotonic, sleep


async def wait_until(deadline: float) -> None:
    while monotonic() < deadline:
        sleep(0.05)
