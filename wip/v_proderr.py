from common import *
from dagloop.io import AbstractDataset
class Sink(AbstractDataset):
    def _save(self, d): pass
    def _load(self): return None
    def _describe(self): return {}
class Boom(Exception): pass
async def bad(n):
    yield 1
    raise Boom("x")
p = pipeline([node(bad, "n", "items", name="gen")])
try:
    ThreadRunner().run(p, DataCatalog({"n": MemoryDataset(3), "items": Sink()}))
except BaseException as e: print("raised:", repr(e))
