from typing import TYPE_CHECKING
import time
from time import sleep

if TYPE_CHECKING:
    from time import struct_time

__all__ = ["sleep", "wait"]


async def wait(when: "struct_time | None" = None) -> None:
    time.sleep(1)
    sleep(2)
