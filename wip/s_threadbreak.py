from common import *
def first3(xs):
    out=[]
    for x in xs:
        out.append(x)
        if len(out)==3: break
    return out
p = pipeline([node(agen, "n", "items", name="gen", buffer=2), node(first3, "items", "f", name="first3")])
r = ThreadRunner().run(p, cat())
print(r["f"].load())
