# Dask's side of `commune bench startup`: a LocalCluster of P worker processes (one thread each), timed
# until every worker is connected to the scheduler, then closed. Prints JSON on one line.
# (The main guard: the workers are spawned processes that import this file again.)
import json
import sys
import time


def main():
    p = int(sys.argv[1])
    t0 = time.perf_counter()
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=p, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(p)
    t1 = time.perf_counter()
    print('STARTUP ' + json.dumps({'p': len(client.scheduler_info()['workers']), 'slowestInitMs': (t1 - t0) * 1e3}), flush=True)
    client.close()
    cluster.close()


if __name__ == '__main__':
    main()
