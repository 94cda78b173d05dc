from common import *
import sys
n = int(sys.argv[1])
p = pipeline([node(sgen, "n", "items", name="gen", stream=True), node(stotal, "items", "t", name="total")])
print(ThreadRunner().run(p, cat(n))["t"].load())
