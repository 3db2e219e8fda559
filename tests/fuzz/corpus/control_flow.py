import time


class Worker:
    async def run(self) -> None:
        async with self:
            time.sleep(0.4)
        for _ in range(3):
            time.sleep(0.1)
        try:
            time.sleep(0.2)
        except Exception:
            time.sleep(0.3)
        finally:
            time.sleep(0.3)
        while True:
            time.sleep(1)
            break
        match self:
            case Worker():
                time.sleep(5)

    @staticmethod
    async def decorated() -> None:
        time.sleep(6)
