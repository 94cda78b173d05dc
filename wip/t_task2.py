from common import *
from dagloop.runner import Task
c = cat(3)
try:
    Task(node(agen, "n", "items", name="gen"), c, is_async=False).execute()
    print("ok", c.load("items") if "items" in c else c)
except Exception as e: print("task err", type(e).__name__, e)
