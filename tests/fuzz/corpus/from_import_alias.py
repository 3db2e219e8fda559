from time import sleep as nap
from time import (
    monotonic,
    sleep as snooze,  # both spellings
)


async def idle() -> None:
    nap(3)
    snooze(monotonic())
    return None
