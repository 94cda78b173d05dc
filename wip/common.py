import asyncio, sys, time, anyio, warnings, gc
warnings.simplefilter("error")
from dagloop.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import node, pipeline
from dagloop.runner import ThreadRunner, SequentialRunner, ParallelRunner
async def agen(n):
    for i in range(n):
        yield i
def sgen(n):
    for i in range(n):
        yield i
async def atotal(xs):
    return sum([x async for x in xs])
def stotal(xs):
    return sum(xs)
def cat(n=50): return DataCatalog({"n": MemoryDataset(n)})
