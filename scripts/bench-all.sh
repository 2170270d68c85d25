#!/usr/bin/env bash
# Runs every benchmark in bench/ one after the other (each is bounded: about 12 minutes in all on 2 cores),
# on embedded PGlite and, when BENCH_POSTGRES_URL names a PostgreSQL server, again on a fresh database there.
# Output goes to the terminal and to bench/results/*.log; JSON results to bench/results/*.json.
#   apt-get install -y wrk golang-cfssl     # once
#   scripts/bench-all.sh
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
run () { # name, command…
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "bench/results/$name.log"
}
unset DATABASE_URL
run issuance npx tsx bench/issuance.ts
run participants npx tsx bench/participants.ts
run ssa-ps256 npx tsx bench/ssa.ts
run db-roundtrip npx tsx bench/db-roundtrip.ts
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  export DATABASE_URL=$BENCH_POSTGRES_URL
  run issuance-postgresql npx tsx bench/issuance.ts --only http
  run participants-postgresql npx tsx bench/participants.ts
  run ssa-ps256-postgresql npx tsx bench/ssa.ts
  run ssa-es256-postgresql npx tsx bench/ssa.ts --alg ES256
  run db-roundtrip-postgresql npx tsx bench/db-roundtrip.ts
fi
