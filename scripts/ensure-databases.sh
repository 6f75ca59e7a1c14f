#!/usr/bin/env bash
# Makes sure the PostgreSQL (127.0.0.1:5432, user postgres, trust auth) and MariaDB
# (127.0.0.1:3306, root, empty password) servers the engine tests use are up: checks each,
# starts it with the machine's own start command if it is down, and waits until it answers.
# Exits non-zero, saying which, when a server cannot be reached.
set -uo pipefail

wait_for() { # name, check command...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then echo "$name: up"; return 0; fi
        sleep 1
    done
    echo "$name: not reachable after 60 s" >&2
    return 1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -U postgres; }
maria_up() { mariadb -h 127.0.0.1 -P 3306 -uroot -e 'SELECT 1'; }

status=0
if ! pg_up >/dev/null 2>&1; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "postgres: starting"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
fi
wait_for postgres pg_up || status=1

if ! maria_up >/dev/null 2>&1; then
    if [ -x /usr/sbin/mariadbd ]; then
        echo "mariadb: starting"
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    fi
fi
wait_for mariadb maria_up || status=1
exit $status
