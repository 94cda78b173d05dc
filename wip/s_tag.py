from common import *
p = pipeline([node(agen, "n", "items", name="gen", buffer=4, tags=["api"]), node(atotal, "items", "t", name="total", tags=["api"])])
print(ThreadRunner(limits={"api":1}).run(p, cat())["t"].load())
