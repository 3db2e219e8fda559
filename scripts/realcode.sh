#!/usr/bin/env bash
# Real-code self-check for asyncmod.
#
# Two corpora, copied to a temporary directory and rewritten there:
#   wheels  pinned wheels of real async Python projects (PACKAGES below; asyncmod's default walk),
#   stdlib  the local Python standard library (sysconfig.get_paths()["stdlib"]), walked with
#           --no-default-excludes. By default only asyncio/, test/test_asyncio/, concurrent/ and
#           unittest/; with --stdlib all of it, site-packages included (~700 MB, ~11k .py files).
# For each corpus, every invocation under `timeout 600`: `asyncmod check --unsafe-fixes --format
# json` (findings before), the same with whole-file parsing (ASYNCMOD_PARSE_WHOLE=1), `diff
# --unsafe-fixes` sliced and whole, `check` (text and json) and `diff` with --jobs 1, 2 and 8
# (REALCODE_JOBS_RUNS runs each with 2 and 8 workers), `fix --unsafe-fixes --jobs 8`, `fix --jobs 1`
# on a second copy, a second fix, `asyncmod check` again. Then checks that nothing broke:
#   * every changed file that compiled before still compiles (python -m py_compile semantics),
#   * a second `asyncmod fix` changes nothing (checksums),
#   * `asyncmod check` afterwards reports no finding with a fix, and `fix` refused no fix,
#   * no panic (`panicked` on stderr), no timeout, exit code 0 or 1 (fix: 0); errors only for
#     files that are not UTF-8 or do not compile,
#   * the same output: sliced and whole-file parsing (check and diff); --jobs 1, 2 and 8 (check
#     text and json, diff: stdout and stderr byte-identical; fix: the same tree and report); a
#     difference names its first differing line,
#   * diff exits 1 with a non-empty diff where a finding has a fix (0 and nothing where none has),
#     and its diff, applied to the original, gives what fix wrote (file by file),
#   * the fix summary agrees with the findings: diff's summary = fix's; findings fix says are left
#     = the ones it lists = what `check` finds after it (per transform); files it says it changed =
#     files that changed; per transform, fixes applied >= findings with a fix - those whose fix
#     overlaps another's. (Fixes applied and findings gone are not equal: one fix can take an
#     overlapping finding with it, such as the `json.load(f)` inside a `with open` block moved into
#     a thread, and a fix can make a new finding, such as an `await asyncio.to_thread(...)` in a
#     loop, which loop-awaits reports.)
#   * Ruff, each code on its own: ASYNC251 and RUF006 fall in every package that has one (and
#     overall, which needs one); F821/F811/F823/F841 rise in no file; the ASYNC codes transforms
#     claim (`ruff = [...]` in transforms/*.toml) rise in no package; Ruff's own count of its
#     findings equals the lines read,
#   * the expected table scripts/realcode_expected.txt: per package and transform the findings
#     before, with a fix and left; per corpus and transform the fixes applied; per corpus the fix
#     summary; per package the .py files and files changed, and each Ruff code before and after.
#     Tolerance: exact (pinned wheels, pinned Ruff, output independent of timing: any difference
#     is a change of behaviour to look at, and a tolerance would hide a transform losing one of
#     its few findings in a small package); the stdlib rows depend on the interpreter, so with
#     another Python version than the table's they may differ by max(2, 25%) (and an expected
#     non-zero stays non-zero), and with --stdlib they are not compared. After a deliberate change,
#     rerun with --update-expected and commit the table with the change.
# Prints tables (per package; per Ruff code; per transform: findings before, fixable, applied,
# left; findings left by no_fix_reason; asyncmod runs with timings); exits nonzero on any violation.
# Cost of the --jobs comparison: ~1 minute on 2 cores (REALCODE_JOBS_RUNS=3).
#
# Usage: scripts/realcode.sh [--stdlib] [--baseline-only] [--keep] [--workdir DIR] [--update-expected]
#   --stdlib           the whole standard library with its site-packages instead of the small subset
#   --baseline-only    download + ruff baseline only (no asyncmod needed)
#   --keep             keep the temporary work directory even on success
#   --workdir DIR      use DIR (must not exist yet) instead of a fresh mktemp directory
#   --update-expected  rewrite scripts/realcode_expected.txt from this run (all other checks apply)
# Environment:
#   ASYNCMOD        asyncmod binary to test (default: cargo build --release, then target/release/asyncmod)
#   REALCODE_VENV   venv directory (default: <repo>/.venv-realcode)
#   REALCODE_CACHE  wheel cache (default: $REALCODE_VENV/wheels)
#   PYTHON          interpreter used to create the venv, whose standard library is the stdlib
#                   corpus (default: python3)
#   REALCODE_TIMEOUT  seconds each asyncmod invocation may take (default: 600)
#   REALCODE_JOBS_RUNS  runs of check/diff with --jobs 2 and with --jobs 8 each (default: 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${REALCODE_VENV:-$ROOT/.venv-realcode}"
CACHE_DIR="${REALCODE_CACHE:-$VENV_DIR/wheels}"
RUFF_VERSION="0.17.6"

# Pinned wheels. Counts are ruff $RUFF_VERSION findings in the unpacked wheel (ASYNC251 / RUF006);
# scripts/realcode_expected.txt has every count the run asserts.
PACKAGES=(
  "jupyterhub==6.1.1"     # 3 / 5  time.sleep in async tests; bare asyncio.ensure_future
  "ipyparallel==9.2.0"    # 2 / 2  time.sleep in async launchers; bare asyncio.ensure_future
  "textual==8.2.8"        # 1 / 0  `from time import sleep` called in a coroutine
  "mavsdk==2.8.4"         # 1 / 0  `import time; time.sleep(1)` one-liner local import in a coroutine
  "pykeybasebot==0.1.4"   # 1 / 1  time.sleep retry loop; bare asyncio.create_task
  "ipykernel==7.4.0"      # 0 / 0  has `time.sleep(...)  # noqa: ASYNC251` in a coroutine (must stay)
  "discord.py==2.7.1"     # 0 / 9  bare asyncio.create_task(..., name=...)
  "aiogram==2.25.2"       # 0 / 5  bare create_task / ensure_future / loop.create_task
  "pydle==1.2.0"          # 0 / 4  bare asyncio.create_task / loop.create_task
  "slixmpp==1.17.0"       # 0 / 5  bare ensure_future incl. `from asyncio import ensure_future`; 480 files
  "crawl4ai==0.9.5"       # 0 / 3  2 ASYNC210: requests.get in a coroutine (legacy/docs_manager.py)
  "langchain-community==0.4.2"  # 0 / 1  2 ASYNC210: requests in coroutines (memory/motorhead_memory.py, llms/textgen.py)
)

# The stdlib subset the default run (CI) uses; --stdlib takes all of it.
STDLIB_SUBSET=(asyncio test/test_asyncio concurrent unittest)
TIMEOUT_SECONDS="${REALCODE_TIMEOUT:-600}"
JOBS_RUNS="${REALCODE_JOBS_RUNS:-3}"
[[ "$JOBS_RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "realcode.sh: REALCODE_JOBS_RUNS must be a positive number" >&2; exit 2; }

BASELINE_ONLY=0
FULL_STDLIB=0
KEEP=0
WORK=""
UPDATE_EXPECTED=()
while (($#)); do
  case "$1" in
    --baseline-only) BASELINE_ONLY=1 ;;
    --stdlib) FULL_STDLIB=1 ;;
    --keep) KEEP=1 ;;
    --update-expected) UPDATE_EXPECTED=(--update-expected) ;;
    --workdir) WORK="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "realcode.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

T0=$SECONDS
log() { printf '==> [%3ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# 1. venv with pinned ruff
if [[ ! -x "$VENV_DIR/bin/python" ]]; then
  log "creating venv $VENV_DIR"
  "${PYTHON:-python3}" -m venv "$VENV_DIR"
fi
PY="$VENV_DIR/bin/python"
HELPER="$ROOT/scripts/realcode_helper.py"
RUFF="$VENV_DIR/bin/ruff"
if [[ "$("$RUFF" --version 2>/dev/null || true)" != "ruff $RUFF_VERSION" ]]; then
  log "installing ruff==$RUFF_VERSION"
  "$PY" -m pip install --quiet --disable-pip-version-check "ruff==$RUFF_VERSION"
fi

# ---------------------------------------------------------------------------------------------
# 2. wheels (cached)
mkdir -p "$CACHE_DIR"
wheel_for() { # NAME VERSION -> path of the cached wheel (empty if none)
  local norm
  norm="$(printf '%s' "$1" | tr 'A-Z.-' 'a-z__')"
  find "$CACHE_DIR" -maxdepth 1 -iname "${norm}-${2}-*.whl" | sort | head -n 1
}
for spec in "${PACKAGES[@]}"; do
  name="${spec%%==*}"; ver="${spec##*==}"
  if [[ -z "$(wheel_for "$name" "$ver")" ]]; then
    log "downloading $spec"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
      -d "$CACHE_DIR" "$spec"
    [[ -n "$(wheel_for "$name" "$ver")" ]] || { echo "realcode.sh: no wheel found for $spec after download" >&2; exit 1; }
  fi
done

# ---------------------------------------------------------------------------------------------
# 3. asyncmod binary
if ((BASELINE_ONLY == 0)); then
  if [[ -z "${ASYNCMOD:-}" ]]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    ASYNCMOD="$ROOT/target/release/asyncmod"
  fi
  [[ -x "$ASYNCMOD" ]] || { echo "realcode.sh: asyncmod binary not executable: $ASYNCMOD" >&2; exit 1; }
fi

# ---------------------------------------------------------------------------------------------
# 4. work directory: orig/ (pristine, for diffs) and src/ (what asyncmod rewrites)
if [[ -z "$WORK" ]]; then
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/asyncmod-realcode.XXXXXX")"
else
  [[ ! -e "$WORK" ]] || { echo "realcode.sh: --workdir $WORK already exists" >&2; exit 2; }
  mkdir -p "$WORK"
fi
WORK="$(cd "$WORK" && pwd -P)"
# asyncmod and ruff must see every file: no folder on the way may have a name skipped by default
# (DEFAULT_EXCLUDES in src/walk.rs), and no .gitignore/.ignore above may apply.
IFS=/ read -r -a parts <<<"${WORK#/}"
for part in "${parts[@]}"; do
  case "$part" in
    .bzr|.direnv|.eggs|.git|.git-rewrite|.hg|.ipynb_checkpoints|.mypy_cache|.nox|.pants.d|.pyenv|\
    .pytest_cache|.pytype|.ruff_cache|.svn|.tox|.venv|.vscode|__pypackages__|_build|buck-out|build|\
    dist|node_modules|site-packages|venv)
      echo "realcode.sh: work directory $WORK has an excluded folder name ($part); use --workdir or TMPDIR" >&2
      rmdir "$WORK"; exit 2 ;;
  esac
done
d="$(dirname "$WORK")"
while :; do
  for f in .gitignore .ignore; do
    [[ ! -e "$d/$f" ]] || { echo "realcode.sh: $d/$f could hide files in $WORK; use --workdir or TMPDIR" >&2; rmdir "$WORK"; exit 2; }
  done
  [[ "$d" != / ]] || break
  d="$(dirname "$d")"
done
cleanup() {
  local rc=$?
  if ((rc == 0 && KEEP == 0)); then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi
}
trap cleanup EXIT

log "unpacking wheels"
mkdir -p "$WORK/orig" "$WORK/runs" "$WORK/after1"
PKG_NAMES=()
for spec in "${PACKAGES[@]}"; do
  name="${spec%%==*}"; ver="${spec##*==}"
  PKG_NAMES+=("$name")
  "$PY" -m zipfile -e "$(wheel_for "$name" "$ver")" "$WORK/orig/$name"
done

# The standard library of the venv's interpreter (a venv shares its base interpreter's stdlib),
# without __pycache__; site-packages as well with --stdlib (also when it lives elsewhere).
copy_tree() { # SRC DST: copy a directory tree without __pycache__
  mkdir -p "$2"
  tar -C "$1" --exclude=__pycache__ -cf - . | tar -C "$2" -xf -
}
STDLIB_DIR="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
STDLIB_VER="$("$PY" -c 'import sys; print(sys.version.split()[0])')"
HAVE_STDLIB=0
if ((FULL_STDLIB)); then
  log "copying the standard library $STDLIB_DIR (Python $STDLIB_VER) with its site-packages"
  copy_tree "$STDLIB_DIR" "$WORK/orig/stdlib"
  HAVE_STDLIB=1
  while IFS= read -r site; do
    [[ -d "$site" ]] || continue
    case "$site/" in
      "$STDLIB_DIR"/*) ;;  # already copied
      *) log "copying $site into stdlib/site-packages"; copy_tree "$site" "$WORK/orig/stdlib/site-packages" ;;
    esac
  done < <("$PY" -c '
import site, sys, sysconfig
base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
print(sysconfig.get_path("purelib", vars=base)); print(sysconfig.get_path("platlib", vars=base))')
else
  log "copying ${STDLIB_SUBSET[*]} from the standard library $STDLIB_DIR (Python $STDLIB_VER)"
  for sub in "${STDLIB_SUBSET[@]}"; do
    if [[ -d "$STDLIB_DIR/$sub" ]]; then
      copy_tree "$STDLIB_DIR/$sub" "$WORK/orig/stdlib/$sub"
      HAVE_STDLIB=1
    else
      log "warning: $STDLIB_DIR/$sub does not exist (test suite not installed?); skipped"
    fi
  done
fi
chmod -R u+w "$WORK/orig"
cp -a "$WORK/orig" "$WORK/src"
cp -a "$WORK/orig" "$WORK/fixj1"
SRC="$WORK/src"

"$PY" - "$WORK/corpora.json" "$HAVE_STDLIB" "$STDLIB_VER" "$FULL_STDLIB" "$JOBS_RUNS" "${PKG_NAMES[@]}" <<'PY'
import json, sys
out, have_stdlib, python, full, jobs_runs, pkgs = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4] == "1", int(sys.argv[5]), sys.argv[6:]
corpora = {"wheels": pkgs}
if have_stdlib:
    corpora["stdlib"] = ["stdlib"]
json.dump({"corpora": corpora, "python": python, "full_stdlib": full, "jobs_runs": jobs_runs}, open(out, "w"))
PY
CORPORA=(wheels)
((HAVE_STDLIB == 0)) || CORPORA+=(stdlib)

# ---------------------------------------------------------------------------------------------
# 5. before: checksums, compile status, ruff
log "baseline: checksums, compile status, ruff"
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_before.json" 1
"$PY" "$HELPER" ruff "$RUFF" "$SRC" "$WORK/ruff_before.json"

if ((BASELINE_ONLY)); then
  "$PY" "$HELPER" baseline "$WORK"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 6. per corpus: asyncmod check (before), fix, fix again, check (after); ruff after
# run_asyncmod CORPUS STEP ARGS...: one invocation under `timeout`, outputs in runs/CORPUS.STEP.*;
# on the corpus in $TREE (default: src/).
run_asyncmod() {
  local corpus="$1" step="$2" base="$WORK/runs/$1.$2" rc=0 t tree="${TREE:-$SRC}" name
  shift 2
  local paths=()
  for name in "${PKG_NAMES[@]}"; do paths+=("$tree/$name"); done
  [[ "$corpus" == wheels ]] || paths=(--no-default-excludes "$tree/stdlib")
  t="$(date +%s.%N)"
  timeout "$TIMEOUT_SECONDS" "$ASYNCMOD" "$@" "${paths[@]}" >"$base.out" 2>"$base.err" || rc=$?
  echo "$rc" >"$base.rc"
  awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }' >"$base.sec"
  if ((rc == 124)); then log "$corpus: asyncmod $step TIMED OUT after ${TIMEOUT_SECONDS}s"; fi
  if grep -q panicked "$base.err"; then log "$corpus: asyncmod $step PANICKED"; fi
}

for corpus in "${CORPORA[@]}"; do
  log "$corpus: asyncmod check --unsafe-fixes (before)"
  run_asyncmod "$corpus" check-before check --unsafe-fixes --format json --quiet
  # Parsing only the statements that can hold a finding must change nothing: check and diff are
  # compared with whole-file parsing (ASYNCMOD_PARSE_WHOLE=1) in the report.
  log "$corpus: sliced parsing against whole files (check and diff)"
  ASYNCMOD_PARSE_WHOLE=1 run_asyncmod "$corpus" check-whole check --unsafe-fixes --format json --quiet
  run_asyncmod "$corpus" diff-sliced diff --unsafe-fixes
  ASYNCMOD_PARSE_WHOLE=1 run_asyncmod "$corpus" diff-whole diff --unsafe-fixes
  # The output may not depend on the number of workers (issue 15): one run with --jobs 1 (the
  # reference), JOBS_RUNS with 2 and with 8, compared in the report.
  log "$corpus: check (text, json) and diff with --jobs 1, 2 and 8 ($JOBS_RUNS runs each with 2 and 8)"
  for jobs in 1 2 8; do
    for ((i = 1; i <= (jobs == 1 ? 1 : JOBS_RUNS); i++)); do
      suffix="j$jobs"; ((jobs == 1)) || suffix+=".$i"
      run_asyncmod "$corpus" "check-text.$suffix" check --unsafe-fixes --jobs "$jobs"
      run_asyncmod "$corpus" "check-json.$suffix" check --unsafe-fixes --format json --quiet --jobs "$jobs"
      run_asyncmod "$corpus" "diff.$suffix" diff --unsafe-fixes --jobs "$jobs"
    done
  done
  log "$corpus: asyncmod fix --unsafe-fixes --jobs 8 (1st run)"
  run_asyncmod "$corpus" fix1 fix --unsafe-fixes --jobs 8
  grep -E '^Fixed ' "$WORK/runs/$corpus.fix1.err" >&2 || tail -n 3 "$WORK/runs/$corpus.fix1.err" >&2 || true
  log "$corpus: asyncmod fix --unsafe-fixes --jobs 1 on a second copy (must end the same)"
  TREE="$WORK/fixj1" run_asyncmod "$corpus" fix-j1 fix --unsafe-fixes --jobs 1
done
"$PY" "$HELPER" snapshot "$WORK/fixj1" "$WORK/snap_fixj1.json" 0
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_after1.json" 0
"$PY" "$HELPER" keep-changed "$WORK"
for corpus in "${CORPORA[@]}"; do
  log "$corpus: asyncmod fix --unsafe-fixes (2nd run, must change nothing)"
  run_asyncmod "$corpus" fix2 fix --unsafe-fixes
done
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_after2.json" 0
for corpus in "${CORPORA[@]}"; do
  log "$corpus: asyncmod check --unsafe-fixes (after; nothing fixable may be left)"
  run_asyncmod "$corpus" check-after check --unsafe-fixes --format json --quiet
done
log "ruff after"
"$PY" "$HELPER" ruff "$RUFF" "$SRC" "$WORK/ruff_after.json"

# ---------------------------------------------------------------------------------------------
# 7. report
log "report"
report_rc=0
"$PY" "$HELPER" report "$WORK" "${UPDATE_EXPECTED[@]}" || report_rc=$?
if ((FULL_STDLIB)); then what="wheels + full stdlib with site-packages"; else what="wheels + stdlib subset (${STDLIB_SUBSET[*]})"; fi
echo "corpus: $what; Python $STDLIB_VER stdlib at $STDLIB_DIR"
echo "total time: $((SECONDS - T0))s"
if ((report_rc == 0 && KEEP == 0)); then
  echo "(rerun with --keep to inspect the work directory and the diff)"
fi
exit "$report_rc"
