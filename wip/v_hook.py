from common import *
from dagloop.framework.hooks import _create_hook_manager
from dagloop.framework.hooks import hook_impl
class H:
    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id):
        print("on_node_error", node.name, repr(error))
    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id):
        print("after_node_run", node.name, outputs)
class Boom(Exception): pass
async def bad(n):
    yield 1
    raise Boom("x")
hm = _create_hook_manager(); hm.register(H())
p = pipeline([node(bad, "n", "items", name="gen"), node(atotal, "items", "t", name="total")])
try:
    ThreadRunner().run(p, cat(3), hm)
except BaseException as e: print("raised:", repr(e))
