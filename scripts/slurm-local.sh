#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine for the SLURM end-to-end tests
# (tests/e2e/test_slurm.py): installs slurm-wlm and munge with apt-get when they are missing,
# writes /etc/slurm/slurm.conf for this host, starts munged, slurmctld and slurmd, and waits
# until `sinfo` shows the node idle. Quick (under a second) and harmless when the cluster is up.
# Needs Linux, root and apt-get; elsewhere it says so and exits 0 (the tests then skip).
set -euo pipefail

wait_s=${SLURM_LOCAL_WAIT_S:-60}   # seconds to wait for the node to come up

say() { echo "slurm-local: $*" >&2; }

node_state() {  # the node's state as sinfo prints it (idle, mixed, down*, ...), or nothing
    timeout 10 sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true
}

node_ready() {
    case "$(node_state)" in
        idle | mixed | allocated | completing) return 0 ;;
        *) return 1 ;;
    esac
}

if [ "$(uname -s)" != Linux ] || [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "not Linux as root with apt-get: no local SLURM cluster started (the SLURM tests skip)."
    exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 \
        || ! command -v munged >/dev/null 2>&1 || ! command -v sinfo >/dev/null 2>&1; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt=(apt-get -o DPkg::Lock::Timeout=600 -q)  # another install may hold the dpkg lock: wait for it
    for try in $(seq 1 60); do  # apt-get update takes the lists lock, which the lock timeout does not cover
        "${apt[@]}" update -qq && break
        [ "$try" -lt 60 ] || { say "apt-get update kept failing (another apt-get running?)."; exit 1; }
        sleep 10
    done
    "${apt[@]}" install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
conf=/etc/slurm/slurm.conf
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
# slurmd -C prints this node's hardware as a NodeName line; keep its first line only, and leave
# the node a tenth of its memory (slurmd refuses a node that has less than it is said to have).
node_line=$(slurmd -C | head -n 1)
mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
node_line=$(sed "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/" <<<"$node_line")
wanted=$(cat <<EOF
# One-node cluster written by scripts/slurm-local.sh (calibrax's SLURM tests).
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
# Cancelled and timed-out jobs end within seconds; ended jobs stay known to scontrol for 10 min.
KillWait=5
MinJobAge=600
SchedulerParameters=sched_interval=1
$node_line State=UNKNOWN
# Up to 4 jobs share a core, so that a few small test jobs never wait on a 2-core machine.
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
)
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
    printf '%s\n' "$wanted" >"$conf"
    say "wrote $conf for $host"
    if pgrep -x slurmctld >/dev/null; then  # a running cluster takes the new file
        scontrol reconfigure || true
    fi
fi

chown munge:munge /run/munge
chmod 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
            || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    runuser -u munge -- /usr/sbin/munged
fi
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
if node_ready; then
    exit 0
fi

deadline=$((SECONDS + wait_s))
while ! node_ready; do
    state=$(node_state)
    case "$state" in
        down* | drain* | fail*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
        say "the node $host is not idle after ${wait_s}s (sinfo says '${state:-no answer}')."
        say "see /var/log/slurm/slurmctld.log and /var/log/slurm/slurmd.log."
        exit 1
    fi
    sleep 1
done
say "node $host is $(node_state) (partition debug)"
