import os, time, sys
from time import sleep, monotonic; import json


async def tick() -> None:
    sleep(1)
    time.sleep(monotonic())
    print(os.sep, sys.argv, json)
