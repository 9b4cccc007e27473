#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for tests and for trying Slurm out (docs/scale.md).
#
#   scripts/slurm_local.sh start    # prints SLURM_CONF=<dir>/slurm.conf; export it, then sbatch ...
#   scripts/slurm_local.sh stop     # cancels every job, stops the daemons, removes <dir>
#   scripts/slurm_local.sh status   # exit 0 when the cluster in <dir> answers
#
# <dir> is $CADENZA_SLURM_DIR, by default ${TMPDIR:-/tmp}/cadenza-slurm: the cluster's config,
# munge key and socket, state, spool, pid files and logs live there and nowhere else. The daemons
# are Debian's munged, slurmctld and slurmd (scripts/setup.sh --with-slurm installs them), started
# as plain background processes (no systemd), as root: SlurmUser=root, one node with the CPUs of
# `nproc`, select/cons_tres over CPUs only (memory is not a consumable, so tasks share the node),
# proctrack/linuxproc and task/none (no cgroup delegation needed). Ports: $CADENZA_SLURM_PORT for
# slurmctld (default 6817) and the next one for slurmd. `start` stops a cluster left running in
# <dir> first; it returns once the node is idle and accepts jobs.
set -euo pipefail

dir=${CADENZA_SLURM_DIR:-${TMPDIR:-/tmp}/cadenza-slurm}
ctld_port=${CADENZA_SLURM_PORT:-6817}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

usage() {
  echo "usage: $0 start|stop|status (cluster folder \$CADENZA_SLURM_DIR, now $dir)" >&2
  exit 2
}

# Polls "$@" every 0.2 s for up to $1 seconds; returns its last status.
wait_for() {
  local seconds=$1
  shift
  local tries=$((seconds * 5))
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    ((tries > 0)) || return 1
    sleep 0.2
  done
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
gone() { ! alive "$1"; }

# SIGTERM to the daemon whose pid file is $1, then SIGKILL if it has not exited within 20 s.
stop_daemon() {
  local pid_file=$1
  alive "$pid_file" || return 0
  local pid
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null || true
  wait_for 20 gone "$pid_file" || kill -KILL "$pid" 2>/dev/null || true
}

node_idle() { [[ $(sinfo -h -o %T 2>/dev/null) == idle ]]; }
no_jobs() { [[ -z $(squeue -h -o %i 2>/dev/null) ]]; }

fail_with_logs() {
  echo "slurm_local: $1; the logs in $dir/log:" >&2
  tail -n 20 "$dir"/log/* >&2 || true
  exit 1
}

stop() {
  [[ -d $dir ]] || return 0
  if alive "$dir/slurmctld.pid"; then
    # Jobs first, so that no slurmstepd outlives its slurmd: Slurm sends SIGTERM, then SIGKILL
    # after KillWait.
    scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
    wait_for 40 no_jobs || echo "slurm_local: jobs still listed after 40 s: $(squeue -h)" >&2
  fi
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  stop_daemon "$dir/munged.pid"
  rm -rf "$dir"
}

start() {
  local missing=()
  for program in munged mungekey slurmctld slurmd sbatch; do
    command -v "$program" >/dev/null || missing+=("$program")
  done
  if ((${#missing[@]} > 0)); then
    echo "slurm_local: ${missing[*]} not found: run scripts/setup.sh --with-slurm" >&2
    exit 1
  fi
  stop
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 755 "$dir" "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed"
  wait_for 10 alive "$dir/munged.pid" || fail_with_logs "munged did not start"

  local host
  host=$(hostname -s)
  cat >"$conf" <<EOF
# Written by scripts/slurm_local.sh: a one-node cluster on localhost.
ClusterName=cadenza-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ReturnToService=2
SchedulerParameters=sched_interval=1
KillWait=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -i
  wait_for 20 scontrol ping || fail_with_logs "slurmctld does not answer"
  slurmd
  wait_for 30 node_idle || fail_with_logs "the node did not become idle"
  echo "SLURM_CONF=$conf"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) scontrol ping >/dev/null 2>&1 && node_idle || exit 1 ;;
  *) usage ;;
esac
