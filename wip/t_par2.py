from common import *
if __name__ == "__main__":
    p = pipeline([node(agen, "n", "items", name="gen", buffer=4), node(stotal, "items", "t", name="total"), node(stotal, "items", "t2", name="total2")])
    print(ParallelRunner(max_workers=1).run(p, SharedMemoryDataCatalog({"n": MemoryDataset(50)}))["t"].load(), flush=True)
