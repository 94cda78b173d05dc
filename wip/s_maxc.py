from common import *
p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(atotal, "items", "t", name="total")])
print(ThreadRunner(max_concurrency=1).run(p, cat())["t"].load())
