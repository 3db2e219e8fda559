import time


async def positions(flag: bool) -> object:
    x = time.sleep(1) or 2
    y = (time.sleep(1)).__class__
    z = time.sleep(1).__class__
    print(time.sleep(0), x, y, z)
    v = time.sleep(0) if flag else None
    f = f"{time.sleep(0)}"
    await time.sleep(0)
    (time.sleep)(1)
    time . sleep (3)
    time.sleep(  # opening comment
        1,  # one second
    )
    time.sleep(2); print("after")
    if flag: time.sleep(4)
    if (n := time.sleep(0)) is None:
        pass
    return time.sleep(0)


async def agen():
    yield time.sleep(0)
    async for item in source():
        time.sleep(item)
