#!/usr/bin/env python3
"""Open MPI anchor for `commune bench collectives`: OSU-style latency of allreduce, bcast, allgather
and barrier under mpi4py, with the same sizes, payloads and iteration counts as commune's run.

Each timed iteration is one collective followed by an untimed barrier (osu_allreduce.c); warm-up
iterations are excluded; each rank's mean is reduced across ranks to avg / min / max. Payloads:
allreduce sums a float64 buffer of SIZE bytes; bcast and allgather move SIZE bytes (allgather: SIZE
from each rank); barrier has no size (reported as 0). Rank 0 prints one JSON object on one line.

  mpirun -n P --mca btl tcp,self /usr/bin/python3 bench/osu_mpi4py.py \
      --plan '[{"collective": "allreduce", "bytes": 8, "iterations": 1000, "warmup": 100}, ...]'
"""
import argparse
import json
import sys
from array import array

from mpi4py import MPI


def buffers(collective, nbytes, size):
    if collective == 'allreduce':
        n = max(1, nbytes // 8)
        return array('d', bytes(8 * n)), array('d', bytes(8 * n))
    if collective == 'bcast':
        return bytearray(nbytes), None
    if collective == 'allgather':
        return bytearray(nbytes), bytearray(nbytes * size)
    return None, None


def run_one(comm, collective, nbytes, iterations, warmup):
    send, recv = buffers(collective, nbytes, comm.Get_size())
    if collective == 'allreduce':
        op = lambda: comm.Allreduce(send, recv, op=MPI.SUM)
    elif collective == 'bcast':
        op = lambda: comm.Bcast(send, root=0)
    elif collective == 'allgather':
        op = lambda: comm.Allgather(send, recv)
    elif collective == 'barrier':
        op = comm.Barrier
    else:
        raise SystemExit(f'osu_mpi4py: unknown collective {collective!r}')
    total = 0.0
    comm.Barrier()
    for i in range(warmup + iterations):
        t0 = MPI.Wtime()
        op()
        dt = MPI.Wtime() - t0
        if i >= warmup:
            total += dt
        comm.Barrier()
    mean_us = total / iterations * 1e6
    s = comm.allreduce(mean_us, op=MPI.SUM)
    lo = comm.allreduce(mean_us, op=MPI.MIN)
    hi = comm.allreduce(mean_us, op=MPI.MAX)
    return {'collective': collective, 'bytes': nbytes, 'avgUs': s / comm.Get_size(),
            'minUs': lo, 'maxUs': hi, 'iterations': iterations}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--plan', required=True, help='JSON list of {collective, bytes, iterations, warmup}')
    args = ap.parse_args()
    plan = json.loads(args.plan)
    comm = MPI.COMM_WORLD
    rows = [run_one(comm, p['collective'], int(p['bytes']), int(p['iterations']), int(p['warmup'])) for p in plan]
    if comm.Get_rank() == 0:
        print(json.dumps({
            'p': comm.Get_size(),
            'mpiLibrary': MPI.Get_library_version().strip('\x00 \n').splitlines()[0].strip(),
            'mpi4py': __import__('mpi4py').__version__,
            'python': sys.version.split()[0],
            'rows': rows,
        }), flush=True)


if __name__ == '__main__':
    main()
