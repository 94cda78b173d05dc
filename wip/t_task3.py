from common import *
from dagloop.runner import Task
from dagloop.framework.hooks import _create_hook_manager
c = cat(3)
try:
    Task(node(agen, "n", "items", name="gen"), c, is_async=False, hook_manager=_create_hook_manager()).execute()
    print("ok", c.load("items"))
except Exception as e: print("task err", type(e).__name__, repr(e))
