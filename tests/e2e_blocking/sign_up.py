"""Forgets to await coroutine functions imported from another module: the notifications are
never sent (Python only warns that the coroutines were never awaited)."""

import asyncio

import notifier
from notifier import notify


async def sign_up(user):
    notify(user, "welcome")
    notifier.notify(user, "please confirm your address")


async def main():
    await asyncio.gather(sign_up("ann"), sign_up("bob"))
    print("sent:", sorted(notifier.SENT))


asyncio.run(main())
