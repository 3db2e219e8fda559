import time


async def lazy(delays: list, loop) -> None:
    wait = lambda: time.sleep(1)
    wait()
    total = sum(time.sleep(d) or d for d in delays)
    a = [time.sleep(d) for d in delays]
    b = {d: time.sleep(d) for d in delays}
    loop.call_later(1, lambda: time.sleep(2))
    print(total, a, b)
