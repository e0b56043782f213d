#!/usr/bin/env bash
# Runs one nightly improvement run from a system crontab, e.g. (crontab -e):
#   0 2 * * * /path/to/council/cron/nightly_improvement.sh
# Works from the project directory whatever cron's cwd is; logs go to logs/nightly-<UTC time>.log.
# Exit status is the run's: 0 for every clean outcome (promoted, rolled back, gate failed, nothing to do,
# waiting for approval, or "locked" because another run is going), non-zero for errors.
set -euo pipefail
project_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_dir"
export PATH="${COUNCIL_NODE_DIR:-/usr/local/bin}:/usr/local/bin:/usr/bin:/bin:${PATH:-}"
mkdir -p logs
log="logs/nightly-$(date -u +%Y%m%dT%H%M%SZ).log"
{
  echo "== council nightly --once: start $(date -u +%FT%TZ) host=$(hostname) pid=$$ dir=$project_dir"
  status=0
  npx --no-install council nightly --once "$@" || status=$?
  echo "== council nightly --once: end $(date -u +%FT%TZ) exit=$status"
} >>"$log" 2>&1
exit "${status:-0}"
