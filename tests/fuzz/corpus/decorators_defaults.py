import time


def deco(x):
    return lambda f: f


async def outer() -> None:
    @deco(time.sleep(1))
    def inner(delay=time.sleep(2)):
        time.sleep(3)

    f = lambda delay=time.sleep(4): delay
    g = (x for x in time.sleep(5) or [])
    h = [y async for y in agen(time.sleep(6))]
    return inner, f, g, h


async def agen(n):
    yield time.sleep(n)
