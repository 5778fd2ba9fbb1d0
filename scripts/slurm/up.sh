#!/usr/bin/env bash
# A real Slurm on this one machine, for tests, CI and demos: munge, slurmdbd (MariaDB),
# slurmctld and a few slurmd "nodes" with fake GPUs, all configured and run from one
# directory this script owns. Idempotent: what already runs with the same config is left
# alone; a changed config restarts the daemons.
#
#   eval "$(scripts/slurm/up.sh)"      # progress on stderr, `export ...` lines on stdout
#
# Needs root (slurmd, mknod) and MariaDB on $SUANLI_SLURM_MYSQL_HOST:PORT (root, no
# password by default). Stop with scripts/slurm/down.sh [--wipe].
#
# Settings (environment):
#   SUANLI_SLURM_DIR             directory for config, state, logs   [/tmp/suanli-slurm]
#   SUANLI_SLURM_NODES           slurmd nodes n1..nN (1-4)           [2]
#   SUANLI_SLURM_GPUS_PER_NODE   fake GPUs per node                  [8]
#   SUANLI_SLURM_GPU_TYPE        GRES type of the GPUs               [h800]
#   SUANLI_SLURM_CPUS / _MEM_MB  CPUs and memory each node claims    [64 / 512000]
#   SUANLI_SLURM_PARTITION       the one partition                   [gpu]
#   SUANLI_SLURM_PORT_BASE       slurmctld base+17, slurmdbd base+19,
#                                slurmd nX base+20+X                 [16800]
#   SUANLI_SLURM_MYSQL_HOST/_PORT/_ROOT  MariaDB admin login  [127.0.0.1 / 3306 / root]
#   SUANLI_SLURM_DB / _DB_USER / _DB_PASS  accounting database [slurm_acct / slurm / ...]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/slurm/common.sh
source "$HERE/common.sh"

log() { echo "slurm-up: $*" >&2; }
die() {
    echo "slurm-up: ERROR: $*" >&2
    exit 1
}
started=$SECONDS

[ "$(id -u)" -eq 0 ] || die "needs root (slurmd runs jobs as their users; mknod for fake GPUs)"
[ "$NODES" -ge 1 ] && [ "$NODES" -le 4 ] || die "SUANLI_SLURM_NODES must be 1-4, not $NODES"

# -- packages -------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v slurmdbd >/dev/null || ! command -v munged >/dev/null ||
    ! command -v mysql >/dev/null; then
    log "installing slurm-wlm slurmdbd munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq slurm-wlm slurmdbd munge mariadb-client; } \
        >"${TMPDIR:-/tmp}/suanli-slurm-apt.log" 2>&1 ||
        die "apt-get install failed; see ${TMPDIR:-/tmp}/suanli-slurm-apt.log"
fi

mkdir -p "$DIR"
# The lock: fd 9, closed (9>&-) for every daemon so that they do not hold it.
exec 9>"$DIR/.lock"
flock -w 120 9 || die "another up.sh/down.sh holds $DIR/.lock"

# -- configuration --------------------------------------------------------------------------
mkdir -p "$ETC" "$RUN" "$LOGDIR" "$STATE/ctld" "$DEV" "$DIR/tmp" "$MUNGE_DIR"
chmod 755 "$DIR" "$ETC" "$RUN" "$LOGDIR" "$DEV"

for ((i = 0; i < GPUS; i++)); do
    [ -c "$DEV/nvidia$i" ] || { rm -f "$DEV/nvidia$i" && mknod "$DEV/nvidia$i" c 195 "$i"; }
done

last=$((GPUS - 1))
node_list="n[1-$NODES]"
[ "$NODES" -eq 1 ] && node_list="n1"
port_list="[$((PORT_BASE + 21))-$((PORT_BASE + 20 + NODES))]"
[ "$NODES" -eq 1 ] && port_list="$((PORT_BASE + 21))"

new="$(mktemp -d)"
trap 'rm -rf "$new"' EXIT

cat >"$new/slurm.conf" <<CONF
# Written by scripts/slurm/up.sh; edits are overwritten.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd-%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
TmpFS=$DIR/tmp
# No cgroups: plain process tracking, no task binding, no usage sampling.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
# Nodes claim the CPUs, memory and GPUs declared below whatever this host has.
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
# The munge socket for talking to slurmdbd (sacct, slurmctld): ours, not the default.
AccountingStoragePass=$MUNGE_SOCKET
AccountingStorageTRES=gres/gpu
JobCompType=jobcomp/none
# Quick turnaround: finished jobs leave squeue after 2 minutes (sacct keeps them),
# a cancelled job gets 2 s between SIGTERM and SIGKILL.
MinJobAge=120
KillWait=2
InactiveLimit=0
OverTimeLimit=0
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node_list NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port_list CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:$GPU_TYPE:$GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$node_list Default=YES MaxTime=INFINITE State=UP
CONF

cat >"$new/gres.conf" <<CONF
# Written by scripts/slurm/up.sh: fake GPUs are character devices made with mknod.
Name=gpu Type=$GPU_TYPE File=$DEV/nvidia[0-$last]
CONF

cat >"$new/slurmdbd.conf" <<CONF
# Written by scripts/slurm/up.sh; edits are overwritten.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOGDIR/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=$MYSQL_HOST
StoragePort=$MYSQL_PORT
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
CONF

changed=0
for name in slurm.conf gres.conf slurmdbd.conf; do
    if ! cmp -s "$new/$name" "$ETC/$name"; then
        changed=1
        install -m 644 "$new/$name" "$ETC/$name"
    fi
done
chmod 600 "$ETC/slurmdbd.conf" # slurmdbd refuses a readable password file

cat >"$DIR/env" <<ENV
SLURM_CONF=$CONF
SUANLI_SLURM_DIR=$DIR
SUANLI_SLURM_PARTITION=$PARTITION
SUANLI_SLURM_NODES=$NODES
SUANLI_SLURM_GPUS_PER_NODE=$GPUS
SUANLI_SLURM_GPU_TYPE=$GPU_TYPE
ENV

if [ "$changed" -eq 1 ] && { alive munged "$RUN/munged.pid" || alive slurmctld "$RUN/slurmctld.pid" ||
    alive slurmdbd "$RUN/slurmdbd.pid"; }; then
    log "configuration changed: restarting"
    flock -u 9
    "$HERE/down.sh" >&2
    flock -w 120 9 || die "lost $DIR/.lock"
fi

export SLURM_CONF="$CONF" SLURM_TIME_FORMAT=standard

# Daemons start with no terminal or pipe of ours (`x=$(up.sh)` must not wait for them)
# and their own start-up messages in $OUT; fd 9 (the lock) closed.
OUT="$LOGDIR/start.out"

# -- munge (our own instance and socket; the host's key) ------------------------------------
if ! alive munged "$RUN/munged.pid"; then
    if [ ! -s /etc/munge/munge.key ]; then
        log "making /etc/munge/munge.key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    chown munge:munge "$MUNGE_DIR"
    chmod 711 "$MUNGE_DIR"
    log "starting munged"
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCKET" \
        --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" \
        --seed-file="$MUNGE_DIR/munged.seed" </dev/null >>"$OUT" 2>&1 9>&- ||
        die "munged did not start: $(tail -n 1 "$OUT"); see $MUNGE_DIR/munged.log"
    for _ in $(seq 1 50); do [ -s "$MUNGE_DIR/munged.pid" ] && break; sleep 0.1; done
    cp "$MUNGE_DIR/munged.pid" "$RUN/munged.pid"
fi
munge --socket="$MUNGE_SOCKET" -n | unmunge --socket="$MUNGE_SOCKET" >/dev/null ||
    die "munge does not work (munge -n | unmunge); see $MUNGE_DIR/munged.log"

# -- the accounting database ----------------------------------------------------------------
mysql_admin() { mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_ROOT" --connect-timeout=5 "$@"; }
mysql_admin -e "SELECT 1" >/dev/null 2>&1 ||
    die "MariaDB does not answer at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_ROOT"
mysql_admin <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
SQL

# -- daemons --------------------------------------------------------------------------------
if ! alive slurmdbd "$RUN/slurmdbd.pid"; then
    log "starting slurmdbd"
    slurmdbd </dev/null >>"$OUT" 2>&1 9>&- ||
        die "slurmdbd did not start: $(tail -n 1 "$OUT"); see $LOGDIR/slurmdbd.log"
fi
wait_for 60 port_open "$DBD_PORT" ||
    die "slurmdbd does not listen on $DBD_PORT within 60 s; see $LOGDIR/slurmdbd.log"

if ! alive slurmctld "$RUN/slurmctld.pid"; then
    log "starting slurmctld"
    slurmctld </dev/null >>"$OUT" 2>&1 9>&- ||
        die "slurmctld did not start: $(tail -n 1 "$OUT"); see $LOGDIR/slurmctld.log"
fi
wait_for 30 scontrol_up ||
    die "slurmctld does not answer scontrol ping within 30 s; see $LOGDIR/slurmctld.log"

for ((i = 1; i <= NODES; i++)); do
    if ! alive slurmd "$RUN/slurmd-n$i.pid"; then
        log "starting slurmd n$i"
        slurmd -N "n$i" </dev/null >>"$OUT" 2>&1 9>&- ||
            die "slurmd n$i did not start: $(tail -n 1 "$OUT"); see $LOGDIR/slurmd-n$i.log"
    fi
done

nodes_idle() {
    local states
    states="$(sinfo -h -N -p "$PARTITION" -o '%N|%T' 2>/dev/null | sort -u)" || return 1
    [ "$(grep -c . <<<"$states")" -eq "$NODES" ] || return 1
    # Up and usable: idle, or running jobs (mixed/allocated) left from earlier runs.
    ! grep -qvE '\|(idle|mixed|allocated|completing)$' <<<"$states"
}
if ! wait_for 15 nodes_idle; then
    # A node a failed GRES check (or an old run) left drained or down: try once more.
    scontrol update nodename="$node_list" state=resume >/dev/null 2>&1 || true
    wait_for 15 nodes_idle || {
        sinfo -N -p "$PARTITION" -o '%N %T %E' >&2 || true
        die "nodes are not idle within 30 s; see $LOGDIR/slurmd-n*.log and slurmctld.log"
    }
fi
wait_for 30 sacct_answers ||
    die "sacct does not answer within 30 s; see $LOGDIR/slurmdbd.log"

log "up in $((SECONDS - started)) s: $NODES nodes x $GPUS $GPU_TYPE in partition $PARTITION"
echo "export SLURM_CONF=$CONF"
