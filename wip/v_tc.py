from common import *
async def tot(xs):
    if isinstance(xs, list) or hasattr(xs, "__iter__") and not hasattr(xs, "__aiter__"): return ("not a stream", xs)
    return sum([x async for x in xs])
p = pipeline([node(agen, "n", "items@a", name="gen"), node(tot, "items@b", "t", name="total")])
try:
    print(ThreadRunner().run(p, cat(5))["t"].load())
except Exception as e: print("raised", repr(e)[:300])
