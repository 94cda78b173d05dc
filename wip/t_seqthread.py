from common import *
p = pipeline([node(sgen, "n", "items", name="gen", buffer=4, stream=True, executor="thread"), node(stotal, "items", "t", name="total", executor="thread")])
print(SequentialRunner().run(p, cat())["t"].load())
