from common import *
running=0; peak=0
async def slow(x):
    global running, peak
    running+=1; peak=max(peak,running); await anyio.sleep(0.05); running-=1; return x
p = pipeline([node(agen, "n", "items", name="gen"), node(atotal, "items", "t", name="total"),
  node(slow, "n", "a", name="a"), node(slow, "n", "b", name="b"), node(slow, "n", "c", name="c")])
SequentialRunner().run(p, cat(3)); print("peak async nodes at once under SequentialRunner:", peak)
