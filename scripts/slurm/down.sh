#!/usr/bin/env bash
# Stop the one-machine Slurm that scripts/slurm/up.sh started: slurmctld and the slurmd
# nodes (scontrol shutdown), then slurmdbd and munged by their pid files.
#
#   scripts/slurm/down.sh           # stop; state and accounting kept (job ids go on)
#   scripts/slurm/down.sh --wipe    # also cancel jobs, delete the state directory and
#                                   # drop the accounting database (job ids restart at 1)
#
# Same settings (environment) as up.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/slurm/common.sh
source "$HERE/common.sh"

wipe=0
case "${1:-}" in
"") ;;
--wipe) wipe=1 ;;
*)
    echo "usage: $0 [--wipe]" >&2
    exit 2
    ;;
esac

log() { echo "slurm-down: $*" >&2; }
[ -d "$DIR" ] || { log "nothing at $DIR"; exit 0; }
exec 9>"$DIR/.lock"
flock -w 120 9 || { log "another up.sh/down.sh holds $DIR/.lock"; exit 1; }
export SLURM_CONF="$CONF"

stop_pid() { # name pidfile: TERM, wait up to 10 s, then KILL
    alive "$1" "$2" || return 0
    local pid
    pid="$(cat "$2")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        alive "$1" "$2" || return 0
        sleep 0.2
    done
    log "$1 ($pid) ignores SIGTERM: SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
}

if alive slurmctld "$RUN/slurmctld.pid"; then
    if [ "$wipe" -eq 1 ]; then
        timeout 10 scancel --partition="$PARTITION" 2>/dev/null || true
    fi
    log "scontrol shutdown"
    timeout 15 scontrol shutdown >/dev/null 2>&1 || true
fi
for pidfile in "$RUN"/slurmd-*.pid; do
    [ -e "$pidfile" ] && stop_pid slurmd "$pidfile"
done
stop_pid slurmctld "$RUN/slurmctld.pid"
stop_pid slurmdbd "$RUN/slurmdbd.pid"
stop_pid munged "$RUN/munged.pid"
rm -f "$RUN"/*.pid

if [ "$wipe" -eq 1 ]; then
    log "wiping $STATE, $LOGDIR and database $DB_NAME"
    rm -rf "$STATE" "$LOGDIR" "$DIR/tmp"
    mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_ROOT" --connect-timeout=5 \
        -e "DROP DATABASE IF EXISTS \`$DB_NAME\`" ||
        log "could not drop database $DB_NAME (MariaDB at $MYSQL_HOST:$MYSQL_PORT)"
fi
log "stopped"
