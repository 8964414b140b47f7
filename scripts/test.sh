#!/usr/bin/env bash
# The whole test suite, then the `backends` tests again on PostgreSQL + Redis.
# Under CI=true nothing may skip for a missing service: a missing backend fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
mkdir -p test-output

# pytest exits 5 when a pass selects nothing (e.g. a path given that holds only serial tests).
run_pass() { "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" || [ $? -eq 5 ]; }

# Pass 1: tests that own no process-wide resource, on one xdist worker per core.
# Pass 2: tests marked serial at collection (conftest.py): Chromium stacks, pcscd, the helper
# build, and the whole-stack tests under tests/. They mostly wait on a browser, a stack or a timer,
# so two workers run them, each taking whole modules (--serial-groups, conftest.py: a module's
# stack and browser start once) and the modules that run a face check all on one worker, one after
# the other. What modules share is safe for that: every stack and pcscd takes free ports (pcscd in
# its own mount namespace, tests/pcsc.py) and the helper is built once per run under a lock
# (tests/helper_build.py). On one worker this pass took 656 s, on two 414-482 s.
run_pass -n "${TEST_WORKERS:-auto}" -m "not serial" "$@"
run_pass -n "${SERIAL_TEST_WORKERS:-2}" --serial-groups -m serial "$@"

if scripts/services.sh; then
  echo "== backends again on PostgreSQL + Redis"
  DB_CONN_MAX_AGE=0 DB_ENGINE=postgres DB_HOST=${PGHOST_FOR_TESTS:-127.0.0.1} DB_USER=${PGUSER_FOR_TESTS:-postgres} \
    DB_NAME=myna_reset REDIS_URL=${REDIS_URL_FOR_TESTS:-redis://127.0.0.1:6379/3} \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m backends
elif [ "${CI:-}" = "true" ]; then
  echo "test: PostgreSQL/Redis missing under CI=true" >&2
  exit 1
else
  echo "test: PostgreSQL/Redis not reachable here; skipped the production-backend pass" >&2
fi
