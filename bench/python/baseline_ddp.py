"""PyTorch (Python) baseline for bench_distributed: data-parallel training samples/s of the
default CRNN with DistributedDataParallel over Gloo on this machine, WORLD processes of THREADS
threads each, BATCH examples per process, 96 x FRAMES inputs. The model is at its fastest here
(channels_last, no SyncBatchNorm: PyTorch's SyncBatchNorm runs on CUDA only).
Prints JSON: {"world": .., "samples_per_second": ..} (global samples/s)."""
import json
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crnn import Crnn, default_arch  # noqa: E402

world = int(sys.argv[1]) if len(sys.argv) > 1 else 2
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 4
frames = int(sys.argv[5]) if len(sys.argv) > 5 else 1366


def worker(rank, port, result):
    torch.set_num_threads(threads)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(rank)
    model = Crnn(default_arch()).to(memory_format=torch.channels_last)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 96, frames).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    ddp.train()
    for i in range(steps + 1):
        if i == 1:
            dist.barrier()
            t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(ddp(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    dist.barrier()
    if rank == 0:
        result.put(steps * batch * world / (time.perf_counter() - t0))
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, port, queue)) for r in range(world)]
    for p in procs:
        p.start()
    rate = queue.get()
    for p in procs:
        p.join()
    print(json.dumps({"world": world, "samples_per_second": rate}))
