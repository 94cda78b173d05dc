from common import *
from dagloop.io import AbstractDataset
class Failing(AbstractDataset):
    def __init__(self): self.n=0
    def _save(self, d):
        self.n += 1
        if self.n == 3: raise IOError("disk full")
    def _load(self): return None
    def _describe(self): return {}
class Rec(AbstractDataset):
    saved=[]
    def _save(self, d): Rec.saved.append(d)
    def _load(self): return Rec.saved[-1]
    def _describe(self): return {}
async def agen2(n):
    for i in range(n):
        yield i
        await anyio.sleep(0)
p = pipeline([node(agen2, "n", "items", name="gen", buffer=2), node(atotal, "items", "t", name="total")])
c = DataCatalog({"n": MemoryDataset(100), "items": Failing(), "t": Rec()})
try:
    ThreadRunner().run(p, c)
except Exception as e: print("run failed:", repr(e))
print("consumer saved:", Rec.saved, "(full sum = 4950)")
