#!/usr/bin/env bash
# `npm run test:node-versions`: the mesh, collectives, grid-search and compat suites again on the other
# supported Node.js majors (default 22, 24 and 26; COMMUNE_TEST_NODE_MAJORS="22 24" to choose), each the
# npm registry's node-<platform>-<arch> binary package installed into .node-versions/<major>/, against
# the tree `npm test` built with this machine's Node. The mesh suite's mixed-version test
# (test/mesh/node-versions.test.ts) runs, on each, one job with one rank per version. Node 18 is
# installed too, to check that the CLI refuses it with one clear message (test/node-version.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/src/cli/main.js ] || { echo "test:node-versions: no build in dist/; run npm test (or npm run build) first" >&2; exit 2; }
platform=$(node -p 'process.platform + "-" + process.arch')
# The npm registry's binary package of a Node.js major, installed once; prints its path.
node_binary() {
  local bin=".node-versions/$1/node_modules/node-$platform/bin/node"
  if [ ! -x "$bin" ]; then
    echo "test:node-versions: installing node-$platform@$1 into .node-versions/$1" >&2
    npm install --prefix ".node-versions/$1" --no-save --no-audit --no-fund --loglevel=error "node-$platform@$1" >&2
  fi
  echo "$PWD/$bin"
}
bins=()
for major in ${COMMUNE_TEST_NODE_MAJORS:-22 24 26}; do bins+=("$(node_binary "$major")"); done

# Every binary, this machine's Node first: the mixed-version test puts rank r on the r-th.
COMMUNE_TEST_NODES=$(IFS=:; echo "$(command -v node):${bins[*]}")
export COMMUNE_TEST_NODES
status=0
for bin in "${bins[@]}"; do
  echo "test:node-versions: mesh, collectives, grid search and compat on $("$bin" --version)"
  # The fault matrix (60 jobs) tests the failure protocol, which no Node version changes: once, in npm test.
  PATH="$(dirname "$bin"):$PATH" node node_modules/mocha/bin/mocha.js --no-config --timeout 120000 --reporter spec \
    --ignore 'dist/test/search/faults.test.js' \
    'dist/test/mesh/*.test.js' 'dist/test/collectives/*.test.js' 'dist/test/search/*.test.js' 'dist/test/compat/*.test.js' || status=1
done
echo "test:node-versions: the CLI on a Node.js too old for it"
COMMUNE_TEST_OLD_NODE=$(node_binary 18) node node_modules/mocha/bin/mocha.js --no-config --reporter spec dist/test/node-version.test.js || status=1
exit $status
