from common import *
n = node(agen, "n", "items", name="gen")
try:
    print("node.run", n.run({"n": 3}))
except Exception as e: print("node.run err", type(e).__name__, e)
from dagloop.runner import Task
import inspect; print(inspect.signature(Task))
