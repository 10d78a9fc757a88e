#!/usr/bin/env bash
# PR benchmark: runs each scenario at the merge-base of BASE_REF and HEAD (the base in a
# git worktree) and at HEAD, then `ratesim diff`s them.
#
#   scripts/pr-benchmark.sh BASE_REF [SCENARIO...]
#
# SCENARIO: scenario files, as paths from the repository's root (default: every
# scenarios/*.toml at HEAD). Run from anywhere inside the repository.
#
# Which ratesim:
#   RATESIM_BIN=path   that binary for both sides (a repository of scenarios that uses an
#                      installed ratesim);
#   otherwise, in the ratesim repository itself, the merge-base's ratesim and HEAD's,
#   each built with cargo (so a change to ratesim's code is benchmarked too);
#   otherwise `ratesim` on PATH.
#
# Settings (environment):
#   OUT=dir                  where everything goes (default: target/pr-benchmark)
#   RATESIM_REPLICATIONS=n   --replications for every run (default: each scenario's)
#   RATESIM_DIFF_ARGS="..."  more arguments for `ratesim diff` (e.g. --fail-on ...)
#
# Writes, per scenario NAME: $OUT/NAME/base, $OUT/NAME/head (run folders) and
# $OUT/NAME/diff (diff.md, diff.json, diff.txt, the forest plot); and $OUT/comment.md,
# every scenario's Markdown in one PR comment (it starts with a marker line, so a
# workflow can find and update its own comment).
#
# Exit status, like diff(1): 0 no regression, 1 a regression in some scenario, 2 trouble
# (bad arguments, a run or a diff that failed).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage ;; esac
base_ref=$1
shift

root=$(git rev-parse --show-toplevel 2>/dev/null) || {
  echo "pr-benchmark: not inside a git repository" >&2
  exit 2
}
cd "$root"
merge_base=$(git merge-base "$base_ref" HEAD 2>/dev/null) || {
  echo "pr-benchmark: no merge-base of '$base_ref' and HEAD (is '$base_ref' fetched?)" >&2
  exit 2
}
out=${OUT:-target/pr-benchmark}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  shopt -s nullglob
  scenarios=(scenarios/*.toml)
  shopt -u nullglob
fi
if [ ${#scenarios[@]} -eq 0 ]; then
  echo "pr-benchmark: no scenario given and none in scenarios/" >&2
  exit 2
fi
for s in "${scenarios[@]}"; do
  if [ ! -f "$s" ]; then
    echo "pr-benchmark: $s: no such scenario file at HEAD (paths are from $root)" >&2
    exit 2
  fi
done

# The merge-base's tree, in a worktree removed on exit.
worktree=$(mktemp -d "${TMPDIR:-/tmp}/ratesim-pr-base.XXXXXX")
cleanup() {
  git worktree remove --force "$worktree" >/dev/null 2>&1 || rm -rf "$worktree"
  git worktree prune >/dev/null 2>&1 || true
}
trap cleanup EXIT
git worktree add --detach --quiet "$worktree" "$merge_base"

if [ -n "${RATESIM_BIN:-}" ]; then
  base_bin=$RATESIM_BIN
  head_bin=$RATESIM_BIN
elif grep -qs '^name = "ratesim"' Cargo.toml; then
  # ratesim's own repository: build each side's ratesim. One target folder for both
  # reuses the dependencies; each binary is copied out before the other is built.
  target=${CARGO_TARGET_DIR:-$root/target}
  mkdir -p "$out/bin"
  echo "pr-benchmark: building ratesim at the merge-base ${merge_base:0:12}" >&2
  cargo build --release --quiet --manifest-path "$worktree/Cargo.toml" --target-dir "$target"
  cp "$target/release/ratesim" "$out/bin/ratesim-base"
  echo "pr-benchmark: building ratesim at HEAD" >&2
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" --target-dir "$target"
  cp "$target/release/ratesim" "$out/bin/ratesim-head"
  base_bin=$out/bin/ratesim-base
  head_bin=$out/bin/ratesim-head
else
  base_bin=$(command -v ratesim) || {
    echo "pr-benchmark: no ratesim: set RATESIM_BIN or put ratesim on PATH" >&2
    exit 2
  }
  head_bin=$base_bin
fi

reps=()
if [ -n "${RATESIM_REPLICATIONS:-}" ]; then
  reps=(--replications "$RATESIM_REPLICATIONS")
fi
# shellcheck disable=SC2206 # word splitting of the extra arguments is the point
diff_args=(${RATESIM_DIFF_ARGS:-})

comment=$out/comment.md
status=0
{
  echo "<!-- ratesim-pr-benchmark -->"
  echo "## ratesim PR benchmark"
  echo
  echo "Base: merge-base \`${merge_base:0:12}\` of \`$base_ref\`; head: \`$(git rev-parse --short=12 HEAD)\`."
} >"$comment.tmp"
for s in "${scenarios[@]}"; do
  name=$(basename "$s" .toml)
  dir=$out/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "pr-benchmark: $s" >&2
  if ! "$head_bin" run "$s" "${reps[@]}" --out "$dir/head" >/dev/null; then
    echo "pr-benchmark: $s: the run at HEAD failed" >&2
    printf '\n### `%s`\n\nThe run at HEAD failed: see the job log.\n' "$s" >>"$comment.tmp"
    status=2
    continue
  fi
  if [ ! -f "$worktree/$s" ]; then
    printf '\n### `%s`\n\nNew in this pull request: no base to compare with.\n' "$s" >>"$comment.tmp"
    continue
  fi
  if ! (cd "$worktree" && "$base_bin" run "$s" "${reps[@]}" --out "$dir/base" >/dev/null); then
    echo "pr-benchmark: $s: the run at the merge-base failed" >&2
    printf '\n### `%s`\n\nThe run at the merge-base failed: see the job log.\n' "$s" >>"$comment.tmp"
    status=2
    continue
  fi
  set +e
  "$head_bin" diff "$dir/base" "$dir/head" "${diff_args[@]}" --format markdown \
    --out "$dir/diff" >/dev/null
  code=$?
  set -e
  printf '\n### `%s`\n\n' "$s" >>"$comment.tmp"
  case $code in
    0 | 1) cat "$dir/diff/diff.md" >>"$comment.tmp" ;;
    *) echo "The diff failed (exit $code): see the job log." >>"$comment.tmp" ;;
  esac
  if [ "$code" -gt "$status" ]; then
    status=$code
  fi
  [ "$code" -le 2 ] || status=2
done
# GitHub takes comments up to 65,536 characters: past 60,000, the full tables (the
# <details> blocks) are left to the artifact.
if [ "$(wc -c <"$comment.tmp")" -gt 60000 ]; then
  awk '/^<details>/ { skip = 1 } !skip { print } /^<\/details>/ { skip = 0; print "(Every row: diff.md in the artifact.)" }' \
    "$comment.tmp" >"$comment.short"
  mv "$comment.short" "$comment.tmp"
fi
mv "$comment.tmp" "$comment"
echo "pr-benchmark: wrote $comment (exit $status)" >&2
exit "$status"
