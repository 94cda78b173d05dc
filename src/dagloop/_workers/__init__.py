"""Worker processes for process nodes: both halves of the protocol in one place.

* :mod:`.protocol` — the frames and the words both sides speak (request kinds,
  reply statuses);
* :mod:`.payload` — values crossing the boundary, big buffers through a RAM disk;
* :mod:`.child` — the worker itself (``python -m dagloop._workers``);
* :mod:`.pool` — the parent side: :class:`~.pool.WorkerPool`, warm workers shared
  by every run of the interpreter, with their lifetime rules;
* :mod:`.call` — one node call in a worker, and what each reply status means.

Kept outside ``dagloop.runner`` on purpose: a worker imports this package and
nothing of the engine, its catalog or its HTTP stack, so it starts fast.
"""
