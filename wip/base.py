from common import *
p = pipeline([node(agen, "n", "items", name="gen", buffer=2), node(atotal, "items", "t", name="total"), node(stotal, "items", "t2", name="t2")])
print(SequentialRunner().run(p, cat())["t"].load())
print(ThreadRunner().run(p, cat())["t"].load())
