from time import sleep

from anyio import run


async def main() -> None:
    sleep(0.1)


run(main)
