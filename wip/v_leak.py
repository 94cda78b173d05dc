import warnings, gc
from common import *
from dagloop.io import AbstractDataset
class Bad(AbstractDataset):
    def _save(self, d): pass
    def _load(self): raise IOError("nope")
    def _describe(self): return {}
warnings.simplefilter("always")
p = pipeline([node(agen, "n", "items", name="gen"), node(atotal, "items", "t", name="total")])
with warnings.catch_warnings(record=True) as w:
    try:
        ThreadRunner().run(p, DataCatalog({"n": Bad()}))
    except Exception as e: print("raised", type(e).__name__)
    gc.collect()
print([str(x.message)[:100] for x in w])
