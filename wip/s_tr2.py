from common import *
p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(stotal, "items", "t", name="total"), node(stotal, "items", "t2", name="total2")])
print(ThreadRunner(max_workers=1).run(p, cat())["t"].load())
