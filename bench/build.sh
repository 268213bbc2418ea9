#!/usr/bin/env bash
# Build-time benchmark: for each revision given (default: HEAD), in a fresh worktree with
# its own target directory, one after another (never two builds at once on this machine):
#   - a clean `cargo build --workspace --all-targets` (wall seconds; dependencies fetched
#     first, so only compiling and linking is timed),
#   - the target directory's size after it,
#   - how many test binaries `cargo test --workspace --no-run` links,
#   - an incremental rebuild after touching one analyzer file (the findings rules; its path
#     at that revision), and how many crates it recompiled,
#   - the test suite's wall time (`scripts/test`, moto_server included), warm.
# Prints one line per figure; the worktrees are removed afterwards.
#   bench/build.sh 2821411 HEAD
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
revs=("$@")
[ ${#revs[@]} -gt 0 ] || revs=(HEAD)
seconds() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.1f}")' "$1"; }
for rev in "${revs[@]}"; do
  sha="$(git -C "$root" rev-parse --short "$rev")"
  wt="$(mktemp -d /tmp/mlaas-build-XXXXXX)"
  git -C "$root" worktree add --detach "$wt" "$sha" >/dev/null
  # The Python tools (moto_server) are the same for every revision: reuse the checkout's.
  [ -d "$root/.venv" ] && ln -s "$root/.venv" "$wt/.venv"
  (
    cd "$wt" || exit 1
    export CARGO_TARGET_DIR="$wt/target" CARGO_TERM_COLOR=never
    cargo fetch -q
    log="$wt/build.log"
    t=$(python3 -c 'import time; print(time.time())')
    cargo build --workspace --all-targets >"$log" 2>&1 || { echo "$sha: build failed"; tail -20 "$log"; exit 1; }
    echo "$sha clean_build_seconds $(seconds "$t")"
    echo "$sha target_size $(du -sh "$CARGO_TARGET_DIR" | cut -f1)"
    echo "$sha test_binaries $(cargo test --workspace --no-run 2>&1 | grep -c 'Executable')"
    findings=engines/analysis/src/findings.rs
    [ -f "$findings" ] || findings=shared/src/analysis/findings.rs
    touch "$findings"
    t=$(python3 -c 'import time; print(time.time())')
    cargo build --workspace --all-targets >"$log" 2>&1
    echo "$sha incremental_seconds_after_touching_$findings $(seconds "$t")"
    echo "$sha crates_recompiled $(grep -c '^ *Compiling' "$log")"
    t=$(python3 -c 'import time; print(time.time())')
    scripts/test >"$wt/test.log" 2>&1
    rc=$?
    echo "$sha test_suite_seconds $(seconds "$t") (rc $rc; $(grep -o '[0-9]* tests run: [0-9]* passed' "$wt/test.log" | tail -1))"
  )
  git -C "$root" worktree remove --force "$wt"
done
