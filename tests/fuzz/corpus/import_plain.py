import time


async def poll(interval: float) -> None:
    time.sleep(interval)
    print("tick")
    time.sleep(0.5)


async def main() -> None:
    await poll(1.0)
