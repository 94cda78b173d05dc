from common import *
p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(atotal, "items", "t", name="total")])
print(SequentialRunner(is_async=True).run(p, cat())["t"].load())
print(ThreadRunner(is_async=True).run(p, cat())["t"].load())
