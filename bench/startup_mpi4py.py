# The lesson's own MPI layer in `commune bench startup`: MPI_Init (mpi4py's import), one 8-byte
# allreduce, a barrier, the slowest rank's init and first-collective times reduced to rank 0, which
# prints them as JSON; MPI_Finalize at exit. Run under mpirun by the bench.
import json
import time

t0 = time.perf_counter()
from mpi4py import MPI  # noqa: E402  (MPI_Init happens here)
t1 = time.perf_counter()
comm = MPI.COMM_WORLD
total = comm.allreduce(1.0, op=MPI.SUM)
t2 = time.perf_counter()
comm.Barrier()
slowest = comm.reduce([(t1 - t0) * 1e3, (t2 - t1) * 1e3], op=lambda a, b: [max(x, y) for x, y in zip(a, b)], root=0)
if comm.Get_rank() == 0:
    print('STARTUP ' + json.dumps({'p': comm.Get_size(), 'sum': total, 'slowestInitMs': slowest[0], 'firstCollectiveMs': slowest[1]}), flush=True)
