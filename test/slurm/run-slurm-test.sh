#!/usr/bin/env bash
# The Slurm executor on a real Slurm: installs Debian's slurmctld, slurmd, slurm-client and munge
# when missing (as root, as CI does), starts a one-node cluster on loopback in a temp folder
# (no systemd: munged, slurmctld and `slurmd -N localhost`, each started and stopped by its pid),
# runs test/slurm/slurm-sweep.test.ts against it (and, with RECLAB_SLURM_E2E=1, the runs-tree
# end-to-end test), stops the cluster and checks that no daemon, job step or trainer is left.
#   bash test/slurm/run-slurm-test.sh           # RECLAB_SKIP_SLURM=1 skips it (npm test honours it)
#   bash test/slurm/run-slurm-test.sh CMD...    # runs CMD with the cluster up (SLURM_CONF set) instead
set -u
cd "$(dirname "$0")/../.."
REPO=$PWD
[ "${RECLAB_SKIP_SLURM:-}" = 1 ] && { echo "slurm test: skipped (RECLAB_SKIP_SLURM=1)"; exit 0; }
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
alive() { kill -0 "$1" 2>/dev/null; }
T_ALL=$(now)

# ---- install when missing
T0=$(now)
need=
for c in slurmctld slurmd sbatch munged; do command -v "$c" >/dev/null || need=1; done
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || { echo "slurm test: Slurm is not installed and this is not root; install slurmctld slurmd slurm-client munge"; exit 1; }
  # Keep the packages' post-install from starting daemons (container images usually ship one).
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge \
    > /tmp/reclab-slurm-apt.log 2>&1 || { tail -20 /tmp/reclab-slurm-apt.log; exit 1; }
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
echo "slurm test: install $(dt "$T0" "$(now)") s ($(slurmctld -V))"

# ---- configure, in a folder of its own
W=$(mktemp -d /tmp/reclab-slurm.XXXXXX)
mkdir -p "$W"/{etc,state,log,run,munge} "$W/spool/slurmd-localhost"
chmod 0755 "$W" "$W/munge"            # munged wants o+x on its socket folder
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$W/munge/munge.key"
free_port() { local p=$1; while ss -ltn | awk 'NR>1{print $4}' | grep -q ":$p\$"; do p=$((p+1)); done; echo "$p"; }
CTLD_PORT=$(free_port 26817); SLURMD_PORT=$(free_port $((CTLD_PORT+1)))
NCPU=2   # two tasks at a time, whatever the machine
MEM_MB=$(awk '/MemAvailable/{printf "%d", $2/1024/2}' /proc/meminfo); [ "$MEM_MB" -gt 4000 ] && MEM_MB=4000
export SLURM_CONF=$W/etc/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=reclab-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge/munge.socket.2
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool/slurmd-%n
SlurmctldPidFile=$W/run/slurmctld.pid
SlurmdPidFile=$W/run/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
KillWait=10
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

MUNGE_PID=; CTLD_PID=; SCRIPTD_PID=; SLURMD_PID=
stop_pid() {   # TERM one pid we started, KILL it after $2 s
  local p=$1 t=${2:-10} i
  [ -n "$p" ] && alive "$p" || return 0
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 1 $((t*10))); do alive "$p" || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
}
stop_cluster() {
  local p i
  if [ -n "$CTLD_PID" ] && alive "$CTLD_PID"; then
    # Jobs a failed test left behind: cancel them first (their steps outlive a shutdown).
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
      scancel $jobs 2>/dev/null
      for i in $(seq 1 150); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    timeout 10 scontrol shutdown >/dev/null 2>&1
    for p in $SLURMD_PID $CTLD_PID $SCRIPTD_PID; do for i in $(seq 1 100); do alive "$p" || break; sleep 0.1; done; done
  fi
  for p in $SLURMD_PID $SCRIPTD_PID $CTLD_PID $MUNGE_PID; do stop_pid "$p" 20; done
  wait 2>/dev/null
  CTLD_PID=
}
trap stop_cluster EXIT

# ---- start
T0=$(now)
munged -F --key-file="$W/munge/munge.key" --socket="$W/munge/munge.socket.2" --pid-file="$W/munge/munged.pid" \
  --log-file="$W/munge/munged.log" --seed-file="$W/munge/munged.seed" > "$W/log/munged.stdout" 2>&1 &
MUNGE_PID=$!
for _ in $(seq 1 50); do [ -S "$W/munge/munge.socket.2" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" > "$W/log/slurmctld.stdout" 2>&1 & CTLD_PID=$!
slurmd -D -N localhost -f "$SLURM_CONF" > "$W/log/slurmd.stdout" 2>&1 & SLURMD_PID=$!
st=
for _ in $(seq 1 120); do st=$(sinfo -h -N -o '%T' 2>/dev/null); [ "$st" = idle ] && break; sleep 0.25; done
SCRIPTD_PID=$(ps -o pid= --ppid "$CTLD_PID" | tr -d ' ' | head -1)
if [ "$st" != idle ]; then echo "slurm test: node state '$st'"; tail -20 "$W"/log/*; exit 1; fi
echo "slurm test: cluster up in $(dt "$T0" "$(now)") s (munged $MUNGE_PID, slurmctld $CTLD_PID, slurmd $SLURMD_PID; ports $CTLD_PORT/$SLURMD_PORT on 127.0.0.1; $W)"

# ---- the tests (the tasks run dist/trainer/cli.js: build first)
[ -f dist/trainer/cli.js ] || npm run build >/dev/null
rc=0
if [ $# -gt 0 ]; then RECLAB_SLURM_WORK=$W "$@" || rc=1
else
RECLAB_SLURM_WORK=$W node --import tsx --test --test-concurrency=1 test/slurm/slurm-sweep.test.ts || rc=1
if [ "${RECLAB_SLURM_E2E:-}" = 1 ]; then
  RECLAB_SLURM_WORK=$W RECLAB_E2E_TESTS=slurm bash test/e2e/run-e2e.sh || rc=1
fi
fi

# ---- stop, and nothing may be left
T0=$(now)
stop_cluster
echo "slurm test: cluster stopped in $(dt "$T0" "$(now)") s"
sleep 0.5
left=
for p in $MUNGE_PID $CTLD_PID $SCRIPTD_PID $SLURMD_PID; do alive "$p" && left="$left $p"; done
# job steps (slurmd's children, reparented once it stops); zombies awaiting PID 1 are fine
left="$left$(ps -eo pid=,stat=,comm= | awk '$3 == "slurmstepd" && $2 !~ /^Z/ {printf " %s", $1}')"
left=${left# }
trainers=$(pgrep -f -- "$W" || true)
if [ -n "$left$trainers" ]; then echo "slurm test: FAIL: processes left: $left $trainers"; rc=1; else echo "slurm test: no daemon, job step or trainer left"; fi
[ "$rc" = 0 ] && rm -rf "$W"
echo "slurm test: total $(dt "$T_ALL" "$(now)") s, $([ "$rc" = 0 ] && echo passed || echo FAILED)"
exit "$rc"
