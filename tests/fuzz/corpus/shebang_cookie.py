#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# A header comment.
import sys
import time


async def main() -> None:
    time.sleep(1)
    print(sys.argv)
