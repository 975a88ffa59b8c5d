"""Dask's cells of `commune bench scaling`: the same synthetic tasks on a LocalCluster of p workers.

    /usr/bin/python3 bench/scaling_dask.py P TASK_MS TASKS [spin|wait]

LocalCluster(n_workers=P, threads_per_worker=1, processes=True), up once every worker has connected;
then `client.gather(client.map(task, range(TASKS), pure=False))`, timed from map to gather's return,
the makespan of commune's cells. `wait` tasks sleep (time.sleep: a worker's one thread is busy as a
commune rank's is); `spin` tasks burn process CPU time. Prints `RESULT {json}`, or `FAILED <why>`
when the cluster does not come up (each worker is a process of ~100 MB).
"""
import json
import sys
import time


def wait_task(i, ms):
    time.sleep(ms / 1000)
    return i


def spin_task(i, ms):
    end = time.process_time() + ms / 1000
    while time.process_time() < end:
        pass
    return i


def main():
    p, ms, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    kind = sys.argv[4] if len(sys.argv) > 4 else "wait"
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        print(f"FAILED dask.distributed is not installed ({e}): apt-get install -y python3-distributed", flush=True)
        return 0
    task = wait_task if kind == "wait" else spin_task
    try:
        with LocalCluster(n_workers=p, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            client.wait_for_workers(p, timeout=600)
            t0 = time.perf_counter()
            out = client.gather(client.map(task, range(n), [ms] * n, pure=False))
            seconds = time.perf_counter() - t0
            print("RESULT " + json.dumps({"p": p, "tasks": n, "makespan": seconds, "ok": out == list(range(n))}), flush=True)
    except Exception as e:  # the cluster did not come up, or a worker died: the cell failed, say why
        print(f"FAILED {type(e).__name__}: {e}".replace("\n", " ")[:500], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
