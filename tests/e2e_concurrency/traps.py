"""Awaits that look independent but are not: `asyncmod fix --unsafe-fixes` must leave them in order.

Each trap prints what gathering it would change. Only the three independent reads in `main` may
be gathered, which makes the program faster and leaves every line of its output as it was.
"""
import asyncio

TEAMS = {"core"}
MEMBERS: list = []
PROFILES = {1: "ann", 2: "bob"}


async def check_team_exists(team: str) -> str:
    await asyncio.sleep(0.02)
    if team not in TEAMS:
        raise LookupError(team)
    return team


async def fetch_members(names: list) -> int:
    # Reads, and records what it read: gathered after a failing check, it would run anyway.
    await asyncio.sleep(0.02)
    MEMBERS.extend(names)
    return len(MEMBERS)


async def check_then_read(team: str, names: list) -> None:
    try:
        checked = await check_team_exists(team)
        count = await fetch_members(names)
        print("added", checked, count)
    except LookupError as missing:
        print("no team", missing, "members:", MEMBERS)


async def fetch_knocker() -> asyncio.Task:
    await asyncio.sleep(0.02)
    return asyncio.create_task(asyncio.sleep(10))


async def fetch_answer() -> str:
    await asyncio.sleep(0.01)
    raise TimeoutError("no answer")


async def finally_reads_a_result() -> None:
    knocker = None
    try:
        knocker = await fetch_knocker()
        answer = await fetch_answer()
        print("answer", answer)
    except TimeoutError as error:
        print("failed:", error)
    finally:
        if knocker:
            knocker.cancel()
        print("knocker cancelled:", knocker is not None)


class Connection:
    """Runs one query at a time, as a database connection does."""

    def __init__(self) -> None:
        self.busy = False

    async def query(self, sql: str) -> str:
        if self.busy:
            raise RuntimeError("another operation is in progress")
        self.busy = True
        await asyncio.sleep(0.02)
        self.busy = False
        return sql.lower()


async def fetch_users(conn: Connection) -> str:
    return await conn.query("USERS")


async def fetch_orders(conn: Connection) -> str:
    return await conn.query("ORDERS")


async def one_connection() -> None:
    conn = Connection()
    users = await fetch_users(conn)
    orders = await fetch_orders(conn)
    print("queries:", users, orders)


async def _forget(user_id: int) -> None:
    await asyncio.sleep(0.01)
    PROFILES.pop(user_id, None)


async def forget_user(user_id: int) -> None:
    await _forget(user_id)


async def fetch_profile(user_id: int) -> str:
    await asyncio.sleep(0.02)
    return PROFILES.get(user_id, "gone")


async def a_wrapper_around_a_change() -> None:
    before = await fetch_profile(2)
    forgotten = await forget_user(2)
    after = await fetch_profile(2)
    print("profile:", before, forgotten, after)


async def fetch_page(name: str) -> str:
    await asyncio.sleep(0.4)
    return name.upper()


async def main() -> None:
    home = await fetch_page("home")
    about = await fetch_page("about")
    help_page = await fetch_page("help")
    print("pages:", home, about, help_page)
    await check_then_read("missing", ["eve"])
    await check_then_read("core", ["ann"])
    await finally_reads_a_result()
    await one_connection()
    await a_wrapper_around_a_change()


asyncio.run(main())
