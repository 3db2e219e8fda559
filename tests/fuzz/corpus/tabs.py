import asyncio
import time


async def job() -> None:
	await asyncio.sleep(0)


async def main(flag: bool) -> None:
	if flag:
		asyncio.create_task(job())
		time.sleep(1)
	else:
		time.sleep(
			2,
		)
