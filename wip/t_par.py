from common import *
if __name__ == "__main__":
    p = pipeline([node(sgen, "n", "items", name="gen", buffer=4, stream=True), node(stotal, "items", "t", name="total")])
    print(ParallelRunner().run(p, SharedMemoryDataCatalog({"n": MemoryDataset(50)}))["t"].load())
    p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(stotal, "items", "t", name="total"), node(stotal, "items", "t2", name="total2")])
    print(ParallelRunner(max_workers=1).run(p, SharedMemoryDataCatalog({"n": MemoryDataset(50)}))["t"].load())
