"""Another module of the project: a coroutine function that records what it sent."""

SENT = []


async def notify(user, message):
    await asyncio_pause()
    SENT.append(f"{user}: {message}")


async def asyncio_pause():
    return None
