#!/usr/bin/env bash
# A real three-node Slurm cluster on this one machine, for commune's Slurm tests and CI.
#
#   slurm/local-cluster.sh up       install Slurm and munge (Debian packages) when missing, write the
#                                   configuration, start munged, slurmctld and one slurmd per node, and
#                                   wait until every node is idle
#   slurm/local-cluster.sh down     stop the daemons this script started (by the pids in their pid files)
#   slurm/local-cluster.sh status   what runs, and sinfo; exit 0 only when every node is idle
#
# Each "node" (n1, n2, n3) is a slurmd on this host with its own loopback address (127.0.1.1-3, written
# to /etc/hosts), so a rank placed on n2 binds and is dialled at 127.0.1.2 as on a real cluster.
# Needs root (daemons, /etc/hosts, /etc/slurm). Every step is idempotent: `up` twice starts nothing twice.
#
# Environment: COMMUNE_SLURM_STATE (state and logs, default /var/tmp/commune-slurm),
# COMMUNE_SLURM_TIMEOUT (seconds to wait for daemons and idle nodes, default 60),
# COMMUNE_SLURM_NO_INSTALL=1 (never call apt-get).
set -euo pipefail

STATE=${COMMUNE_SLURM_STATE:-/var/tmp/commune-slurm}
TIMEOUT=${COMMUNE_SLURM_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
MARK='# written by commune slurm/local-cluster.sh'
NODES=(n1 n2 n3)
ADDRS=(127.0.1.1 127.0.1.2 127.0.1.3)
# slurmd ports, one per node (all slurmd share the host); below commune's planned range 10000-32767.
PORTS=(6821 6822 6823)
CPUS=8 # per node: more than this VM has (config_overrides allows it), so srun -N 3 -n 6 fits

say() { echo "local-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it starts daemons and edits /etc/hosts and $CONF); try: sudo $0 $*"
}

# ---- pids ------------------------------------------------------------------------------------------

# alive PIDFILE NAME: the pid in PIDFILE is running and is the program NAME (guards against pid reuse).
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.5 s until it succeeds; fails naming WHAT.
wait_until() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 2; i++)); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  say "timed out after ${secs}s waiting for $what"
  return 1
}

# stop PIDFILE NAME: TERM, wait, then KILL; only the pid recorded in PIDFILE, and only if it is NAME.
stop() {
  local pid
  if ! alive "$1" "$2"; then rm -f "$1"; return 0; fi
  pid=$(tr -dc '0-9' <"$1")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 15 "$2 (pid $pid) to stop" bash -c "! kill -0 $pid 2>/dev/null"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  say "stopped $2 (pid $pid)"
}

# ---- install ---------------------------------------------------------------------------------------

installed() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v srun >/dev/null &&
    command -v sinfo >/dev/null && command -v munged >/dev/null
}

install_packages() {
  installed && return 0
  [ "${COMMUNE_SLURM_NO_INSTALL:-}" = 1 ] && die "Slurm or munge is not installed and COMMUNE_SLURM_NO_INSTALL=1"
  command -v apt-get >/dev/null || die "Slurm is not installed and apt-get is not available; install slurm-wlm and munge with your package manager"
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq >&2 || die "apt-get update failed (network or mirror); Slurm cannot be installed"
  timeout 900 apt-get install -y -qq slurm-wlm munge >&2 || die "apt-get install slurm-wlm munge failed"
  installed || die "slurm-wlm installed but slurmctld/slurmd/srun/munged are still not on PATH"
}

# ---- configuration ---------------------------------------------------------------------------------

hosts_entries() {
  local i
  for i in "${!NODES[@]}"; do
    if ! grep -Eq "^[[:space:]]*${ADDRS[$i]//./\\.}[[:space:]]+${NODES[$i]}([[:space:]]|$)" /etc/hosts; then
      grep -Eq "[[:space:]]${NODES[$i]}([[:space:]]|$)" /etc/hosts &&
        die "/etc/hosts already maps ${NODES[$i]} to another address; remove that line or change NODES in $0"
      echo "${ADDRS[$i]} ${NODES[$i]} $MARK" >>/etc/hosts
      say "added '${ADDRS[$i]} ${NODES[$i]}' to /etc/hosts"
    fi
  done
}

write_conf() {
  local host tmp i
  host=$(hostname)
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; this looks like a real Slurm installation, refusing to overwrite it"
  fi
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/log"
  for i in "${NODES[@]}"; do mkdir -p "$STATE/spool.$i"; done
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
$MARK: a controller and ${#NODES[@]} slurmd "nodes" on $host.
ClusterName=local
# The address in brackets: the host name need not resolve (CI machines).
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdSpoolDir=$STATE/spool.%n
SlurmdPidFile=$STATE/slurmd.%n.pid
SlurmdLogFile=$STATE/log/slurmd.%n.log
# No cgroups in containers or CI VMs: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Lets each node claim $CPUS CPUs although they all share this machine.
SlurmdParameters=config_overrides
# sbatch --wait polls every 2, 8, then 32 s, growing only while below MinJobAge/2: 10 s caps it at 8 s.
MinJobAge=10
# A failed task ends only itself (commune's failure semantics are under test, not Slurm's).
KillOnBadExit=0
EOF
  for i in "${!NODES[@]}"; do
    echo "NodeName=${NODES[$i]} NodeHostname=$host NodeAddr=${ADDRS[$i]} Port=${PORTS[$i]} CPUs=$CPUS RealMemory=4000 State=UNKNOWN" >>"$tmp"
  done
  echo "PartitionName=debug Nodes=$(IFS=,; echo "${NODES[*]}") Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES" >>"$tmp"
  if ! cmp -s "$tmp" "$CONF" 2>/dev/null; then
    install_conf "$tmp"
  fi
  rm -f "$tmp"
}

install_conf() {
  # A changed configuration needs the daemons restarted to take effect.
  if daemons_running; then say "configuration changed: restarting the daemons"; stop_slurm; fi
  cp "$1" "$CONF"
  chmod 644 "$CONF"
  say "wrote $CONF"
}

# ---- daemons ---------------------------------------------------------------------------------------

MUNGE_PID=/run/munge/munged.pid

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key || die "cannot create /etc/munge/munge.key"
  fi
  if alive "$MUNGE_PID" munged; then return 0; fi
  if munge_ok; then
    say "a munged not started by this script already answers; using it"
    return 0
  fi
  runuser -u munge -- /usr/sbin/munged --force || die "munged did not start; see /var/log/munge/munged.log"
  mkdir -p "$STATE" && touch "$STATE/munged.ours"
  wait_until "$TIMEOUT" "munged to answer" munge_ok || die "munged started but 'munge -n | unmunge' fails; see /var/log/munge/munged.log"
  say "started munged (pid $(cat "$MUNGE_PID"))"
}

daemons_running() {
  local n
  alive "$STATE/slurmctld.pid" slurmctld && return 0
  for n in "${NODES[@]}"; do alive "$STATE/slurmd.$n.pid" slurmd && return 0; done
  return 1
}

ctld_ok() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

start_slurm() {
  local n
  if ! alive "$STATE/slurmctld.pid" slurmctld; then
    slurmctld || die "slurmctld did not start; see $STATE/log/slurmctld.log"
    wait_until "$TIMEOUT" "slurmctld to answer" ctld_ok ||
      die "slurmctld started but does not answer 'scontrol ping'; see $STATE/log/slurmctld.log"
    say "started slurmctld (pid $(cat "$STATE/slurmctld.pid"))"
  fi
  for n in "${NODES[@]}"; do
    alive "$STATE/slurmd.$n.pid" slurmd && continue
    slurmd -N "$n" || die "slurmd for node $n did not start; see $STATE/log/slurmd.$n.log"
    wait_until "$TIMEOUT" "slurmd $n to write its pid file" alive "$STATE/slurmd.$n.pid" slurmd ||
      die "slurmd for node $n exited; see $STATE/log/slurmd.$n.log"
    say "started slurmd $n (pid $(cat "$STATE/slurmd.$n.pid"))"
  done
}

stop_slurm() {
  local n
  for n in "${NODES[@]}"; do stop "$STATE/slurmd.$n.pid" slurmd; done
  stop "$STATE/slurmctld.pid" slurmctld
}

# Node states, one "name state" per line; a suffix flag (e.g. "idle*": not responding yet) means not ready.
node_states() { sinfo -h -N -o '%N %T' 2>/dev/null | sort -u; }

all_idle() {
  local states n
  states=$(node_states) || return 1
  for n in "${NODES[@]}"; do grep -qx "$n idle" <<<"$states" || return 1; done
}

# Every node serving: idle, or busy with jobs (an `up` while tests run must not wait for them to end).
all_serving() {
  local states n
  states=$(node_states) || return 1
  for n in "${NODES[@]}"; do grep -Eqx "$n (idle|mixed|allocated|completing)" <<<"$states" || return 1; done
}

wait_idle() {
  if all_idle; then return 0; fi
  if all_serving; then say "nodes are up and running jobs"; return 0; fi
  # Nodes left down or drained by an earlier run come back with RESUME (ReturnToService covers the rest).
  local bad
  bad=$(node_states | awk '$2 ~ /^(down|drain|drained|draining|fail)/ {print $1}' | paste -sd, -)
  if [ -n "$bad" ]; then scontrol update NodeName="$bad" State=RESUME 2>/dev/null || true; fi
  wait_until "$TIMEOUT" "nodes ${NODES[*]} to be idle" all_idle || {
    say "node states now:"; node_states >&2 || true
    die "the nodes did not become idle within ${TIMEOUT}s; see $STATE/log/"
  }
}

# ---- commands --------------------------------------------------------------------------------------

up() {
  need_root up
  install_packages
  hosts_entries
  write_conf
  start_munge
  start_slurm
  wait_idle
  say "up: nodes ${NODES[*]} ready (state and logs in $STATE)"
}

down() {
  need_root down
  stop_slurm
  # munged is stopped only if this script started it (its pid file is the one munged writes).
  if alive "$MUNGE_PID" munged && [ -e "$STATE/munged.ours" ]; then stop "$MUNGE_PID" munged; fi
  rm -f "$STATE/munged.ours"
  say "down"
}

status() {
  local n ok=0
  if alive "$MUNGE_PID" munged || munge_ok; then echo "munged: running"; else echo "munged: stopped"; ok=1; fi
  if alive "$STATE/slurmctld.pid" slurmctld; then echo "slurmctld: running (pid $(cat "$STATE/slurmctld.pid"))"; else echo "slurmctld: stopped"; ok=1; fi
  for n in "${NODES[@]}"; do
    if alive "$STATE/slurmd.$n.pid" slurmd; then echo "slurmd $n: running (pid $(cat "$STATE/slurmd.$n.pid"))"; else echo "slurmd $n: stopped"; ok=1; fi
  done
  if command -v sinfo >/dev/null; then sinfo -N 2>&1 || ok=1; fi
  all_idle || ok=1
  return $ok
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
