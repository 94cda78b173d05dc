from common import *
ev=[]
p = pipeline([node(agen, "n", "items", name="gen"), node(atotal, "items", "t", name="total")])
ThreadRunner().run(p, cat(3), on_event=lambda e: ev.append((e.kind, e.node, e.dataset, e.items)))
for e in ev: print(e)
