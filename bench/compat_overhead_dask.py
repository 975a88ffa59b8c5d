"""Anchor for bench/compat-overhead.ts: distributed's per-task overhead.

    /usr/bin/python3 bench/compat_overhead_dask.py N REPS

LocalCluster(n_workers=2, threads_per_worker=1, processes=True) + Client; one warm-up map of 1,000
no-op tasks, then REPS times `client.gather(client.map(noop, range(N), pure=False))`, timed from
map to gather's return. Prints one line per rep: `BENCH_SECONDS <s>`.
"""
import sys
import time

from dask.distributed import Client, LocalCluster


def noop(x):
    return None


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        client.gather(client.map(noop, range(1000), pure=False))
        for _ in range(reps):
            t0 = time.perf_counter()
            client.gather(client.map(noop, range(n), pure=False))
            print(f"BENCH_SECONDS {time.perf_counter() - t0}", flush=True)


if __name__ == "__main__":
    main()
