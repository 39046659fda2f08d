#!/usr/bin/env bash
# Makes sure MariaDB and Redis answer on 127.0.0.1, starting them if they are installed but
# stopped. Prints what it did; exits non-zero only when a service is installed and will not start.
set -uo pipefail

sudo=""
[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo="sudo"

wait_for() {  # name, check command
  for _ in $(seq 1 30); do
    eval "$2" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "$1 did not come up" >&2
  return 1
}

mariadb_up() { mysqladmin --host=127.0.0.1 --port=3306 --user=root ping >/dev/null 2>&1 \
  || mariadb-admin --host=127.0.0.1 --port=3306 --user=root ping >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [[ "${1:-}" == "--check" ]]; then  # only say whether both answer
  mariadb_up && redis_up
  exit $?
fi

status=0
if mariadb_up; then
  echo "MariaDB: running"
elif [[ -x /usr/sbin/mariadbd || -x /usr/sbin/mysqld ]]; then
  echo "MariaDB: starting"
  daemon=/usr/sbin/mariadbd; [[ -x $daemon ]] || daemon=/usr/sbin/mysqld
  $sudo mkdir -p /run/mysqld && $sudo chown mysql:mysql /run/mysqld 2>/dev/null
  $sudo start-stop-daemon --start --oknodo --background --exec "$daemon" >/dev/null 2>&1 \
    || $sudo service mariadb start >/dev/null 2>&1
  wait_for MariaDB mariadb_up || status=1
else
  echo "MariaDB: not installed (MariaDB tests will be skipped outside CI)"
fi

# Django's date lookups in the Asia/Shanghai zone (admin date drill-downs, reports by day) need
# MariaDB's time-zone tables; load them once if they are empty.
if mariadb_up; then
  tz=$(mysql --host=127.0.0.1 --user=root -N -e "SELECT CONVERT_TZ('2020-01-01 00:00:00','UTC','Asia/Shanghai')" 2>/dev/null)
  if [[ "$tz" == "NULL" ]] && command -v mysql_tzinfo_to_sql >/dev/null 2>&1; then
    echo "MariaDB: loading time-zone tables"
    mysql_tzinfo_to_sql /usr/share/zoneinfo 2>/dev/null | mysql --host=127.0.0.1 --user=root mysql || status=1
  fi
fi

if redis_up; then
  echo "Redis: running"
elif command -v redis-server >/dev/null 2>&1; then
  echo "Redis: starting"
  $sudo redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for Redis redis_up || status=1
else
  echo "Redis: not installed (Redis tests will be skipped outside CI)"
fi
exit $status
