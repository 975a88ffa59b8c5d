"""Dask's cells of `commune bench scaling`: the same synthetic tasks on a LocalCluster of p workers.

    /usr/bin/python3 bench/scaling_dask.py P TASK_MS TASKS [spin|wait]

LocalCluster(n_workers=P, threads_per_worker=1, processes=True), up once every worker has connected;
then one untimed task per worker (warm-up, as commune's cells), IDLE_S of idling (the cluster's CPU
then is its upkeep), then
`client.gather(client.map(task, range(TASKS), pure=False))`, timed from map to gather's return,
the makespan of commune's cells; also the workers' mean RSS (the driver stops Dask's cells where p
workers would not fit in memory). `wait` tasks sleep (time.sleep: a worker's one thread is busy as a
commune rank's is); `spin` tasks burn process CPU time. Prints `RESULT {json}`, or `FAILED <why>`
when the cluster does not come up or does not finish within LIMIT_S (each worker is a process of
~100 MB with its own event loop, heartbeats and profiler).
"""
import json
import signal
import sys
import time

LIMIT_S = 600
IDLE_S = 2


def wait_task(i, ms):
    time.sleep(ms / 1000)
    return i


def spin_task(i, ms):
    end = time.process_time() + ms / 1000
    while time.process_time() < end:
        pass
    return i


def cluster_processes():
    """This process (the client and LocalCluster's scheduler) and every process it started."""
    import psutil
    me = psutil.Process()
    return [me] + me.children(recursive=True)


def cpu_ms(procs):
    """CPU ms so far (user + system) of each process still running, by pid."""
    import psutil
    out = {}
    for q in procs:
        try:
            t = q.cpu_times()
            out[q.pid] = (t.user + t.system) * 1000
        except psutil.NoSuchProcess:
            pass
    return out


def worker_rss():
    import psutil
    return psutil.Process().memory_info().rss


def main():
    p, ms, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    kind = sys.argv[4] if len(sys.argv) > 4 else "wait"
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        print(f"FAILED dask.distributed is not installed ({e}): apt-get install -y python3-distributed", flush=True)
        return 0
    task = wait_task if kind == "wait" else spin_task
    # A cluster that cannot get through its cell (at 128 workers on two cores their own upkeep holds the
    # cores) ends with the reason, its workers closed by the context managers, not orphaned.
    def give_up(_sig, _frame):
        raise TimeoutError(f"{p} workers had not come up and run {n} tasks of {ms:g} ms within {LIMIT_S} s")
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(LIMIT_S)
    # A fair start at hundreds of workers on two cores: the connect timeout (30 s by default) is what
    # stops Dask first here, not the engine, so it gets commune's start-up allowance and more.
    import dask
    dask.config.set({"distributed.comm.timeouts.connect": "180s", "distributed.comm.timeouts.tcp": "180s"})
    try:
        with LocalCluster(n_workers=p, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            client.wait_for_workers(p, timeout=600)
            # Warm, as commune's cells are: a task per worker, untimed.
            client.gather(client.map(task, range(p), [0] * p, pure=False))
            procs = cluster_processes()
            # Upkeep: what the idle cluster burns (heartbeats, profiler, event loops) per worker, as a
            # fraction of a core — the model's term that makes Dask stop as workers are added here.
            idle0, i0 = cpu_ms(procs), time.perf_counter()
            time.sleep(IDLE_S)
            idle1, idle_s = cpu_ms(procs), time.perf_counter() - i0
            idle_ms = sum(idle1[pid] - idle0[pid] for pid in idle1 if pid in idle0)
            cpu0 = cpu_ms(procs)
            t0 = time.perf_counter()
            out = client.gather(client.map(task, range(n), [ms] * n, pure=False))
            seconds = time.perf_counter() - t0
            cpu1 = cpu_ms(procs)
            signal.alarm(0)
            rss = client.run(worker_rss)
            mib = sum(rss.values()) / max(1, len(rss)) / 2**20
            used = {pid: cpu1[pid] - cpu0[pid] for pid in cpu1 if pid in cpu0}
            print("RESULT " + json.dumps({
                "p": p, "tasks": n, "makespan": seconds, "ok": out == list(range(n)), "workerRssMiB": mib,
                # All the cluster's CPU (workers, their nannies, this process) over p, as commune's cells.
                "cpuMsPerRank": sum(used.values()) / p, "schedulerCpuMs": used.get(procs[0].pid),
                "idleCoresPerWorker": idle_ms / 1000 / idle_s / p,
            }), flush=True)
    except Exception as e:  # the cluster did not come up, or a worker died: the cell failed, say why
        print(f"FAILED {type(e).__name__}: {e}".replace("\n", " ")[:500], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
