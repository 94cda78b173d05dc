from common import *
async def both(xs, t):
    return t + sum([x async for x in xs])
p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(atotal, "items", "t", name="total"), node(both,["items","t"],"b",name="both")])
print(SequentialRunner().run(p, cat())["b"].load())
