# Shared by up.sh and down.sh (sourced): settings, paths and small helpers.
# shellcheck shell=bash

DIR="${SUANLI_SLURM_DIR:-/tmp/suanli-slurm}"
NODES="${SUANLI_SLURM_NODES:-2}"
GPUS="${SUANLI_SLURM_GPUS_PER_NODE:-8}"
GPU_TYPE="${SUANLI_SLURM_GPU_TYPE:-h800}"
CPUS="${SUANLI_SLURM_CPUS:-64}"
MEM_MB="${SUANLI_SLURM_MEM_MB:-512000}"
PARTITION="${SUANLI_SLURM_PARTITION:-gpu}"
PORT_BASE="${SUANLI_SLURM_PORT_BASE:-16800}"
MYSQL_HOST="${SUANLI_SLURM_MYSQL_HOST:-127.0.0.1}"
MYSQL_PORT="${SUANLI_SLURM_MYSQL_PORT:-3306}"
MYSQL_ROOT="${SUANLI_SLURM_MYSQL_ROOT:-root}"
DB_NAME="${SUANLI_SLURM_DB:-slurm_acct}"
DB_USER="${SUANLI_SLURM_DB_USER:-slurm}"
DB_PASS="${SUANLI_SLURM_DB_PASS:-suanli-slurm}"
CLUSTER=suanli

ETC="$DIR/etc"
CONF="$ETC/slurm.conf"
RUN="$DIR/run"
LOGDIR="$DIR/log"
STATE="$DIR/state"
DEV="$DIR/dev"
MUNGE_DIR="$DIR/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket"
CTLD_PORT=$((PORT_BASE + 17))
DBD_PORT=$((PORT_BASE + 19))

alive() { # name pidfile: the process in pidfile runs and is called name
    local pid
    [ -s "$2" ] || return 1
    pid="$(cat "$2" 2>/dev/null)" || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ]
}

wait_for() { # seconds command...: poll every 0.2 s
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
scontrol_up() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
sacct_answers() { timeout 5 sacct -n -X -S now >/dev/null 2>&1; }
