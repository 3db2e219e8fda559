import asyncio
import time


async def main() -> None:
    time.sleep(1)  # asyncmod: ignore
    time.sleep(2)  # asyncmod: ignore[time-sleep]
    time.sleep(3)  # noqa
    time.sleep(4)  # noqa: ASYNC251
    time.sleep(5)  # noqa: E501, ASYNC251
    time.sleep(6)  # asyncmod: ignore[dangling-task]
    time.sleep(7)  # NOQA:RUF006
    asyncio.create_task(main())  # noqa: RUF006
    asyncio.create_task(main())  # type: ignore  # asyncmod: ignore[dangling-task]
    asyncio.create_task(  # noqa: RUF006
        main(),
    )
    # asyncmod: ignore
    time.sleep(8)
