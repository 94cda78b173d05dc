from common import *
p = pipeline([node(sgen, "n", "items", name="gen", buffer=4, stream=True), node(stotal, "items", "t", name="total")])
print(ThreadRunner(max_workers=1).run(p, cat())["t"].load())
