import time

MESSAGE = '''
    time.sleep(1) inside a string
'''


async def slow() -> None:
    text = "time.sleep(1)"  # time.sleep(2) in a comment
    x = 1 + \
        2
    time.sleep(x)
    print(text, 'done')
