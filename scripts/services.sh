#!/usr/bin/env bash
# Makes sure the production backends the tests use are up: PostgreSQL on 127.0.0.1:5432 and Redis
# on 127.0.0.1:6379. Starts them from Debian's packages when they are installed but stopped.
# Exit 0 when both answer, 1 otherwise.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up && command -v pg_ctlcluster >/dev/null && [ "$(id -u)" -eq 0 ]; then
  for version in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start 2>/dev/null || true
  done
fi
if ! redis_up && command -v redis-server >/dev/null && [ "$(id -u)" -eq 0 ]; then
  mkdir -p /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /var/log/redis/ci.log >/dev/null 2>&1 || true
fi
for _ in $(seq 1 20); do
  pg_up && redis_up && exit 0
  sleep 0.5
done
pg_up || echo "services: PostgreSQL is not answering on 127.0.0.1:5432" >&2
redis_up || echo "services: Redis is not answering on 127.0.0.1:6379" >&2
exit 1
