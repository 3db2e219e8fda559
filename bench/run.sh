#!/usr/bin/env bash
# asyncmod against Ruff, side by side, on the same files. Rerunnable on a fresh machine: it builds
# the release binary, installs pinned Ruff with pip into bench/.venv, prepares the corpora and
# prints markdown tables (the README's Performance section is one such run).
#
# Corpora (in $BENCH_DIR, default /tmp/asyncmod-bench; its path must hold no folder name that
# either tool skips by default, such as build, dist, venv, site-packages or a hidden folder):
#   python  every .py file of the local Python installation that is UTF-8 (asyncmod skips the
#           others with an error, exit 2): the sysconfig stdlib dir with its site-packages, any
#           purelib/platlib outside it, and the bench venv's packages. Ruff runs with --config
#           'exclude=[]' --config 'include=["*.py"]' and asyncmod with --no-default-excludes, so
#           that both process the same files; the script checks the file counts agree.
#   apps    pinned wheels of real async applications (the list in scripts/realcode.sh),
#           downloaded with pip --no-deps --only-binary :all: and unpacked: check / diff / fix,
#           both tools with their default excludes; the script checks the .py file counts agree.
#   scale   the python corpus copied 1x, 2x, 4x, 8x (hard links): time per MB and peak RSS.
# Each pair runs alternately (ruff, asyncmod, ruff, ...) RUNS times; the tables give the median
# wall time, the asyncmod/Ruff ratio and the highest peak RSS of the runs (/usr/bin/time).
# A run that fails is not timed: every run must exit as expected (Ruff and asyncmod check 1, there
# are findings; diff 1, there is a diff; fix 0) and print something (fix must also change the
# tree), or the bench stops with the command and its stderr.
# Then the same output with --jobs 1, 2 and 8: check (text and json) and diff --unsafe-fixes on
# the python and apps corpora, JOBS_RUNS runs with 2 and with 8 workers, byte-identical to --jobs 1
# (a difference stops the bench and names the first differing line).
# Then a coverage check (bench/ruff_codes.txt): every finding of each checked Ruff code on the
# python and apps corpora must be found by the transform named there at the same line; a code
# with no Ruff finding, or that the transform does not claim, fails the check.
#
# Usage: bench/run.sh [--quick]     --quick: RUNS=3, scale series 1x and 2x only
# Environment:
#   BENCH_DIR    work folder for corpora and wheels (default: ${TMPDIR:-/tmp}/asyncmod-bench)
#   RUNS         runs per tool and corpus (default 5); SCALE_RUNS for the scale series (default 3)
#   JOBS_RUNS    runs with --jobs 2 and with --jobs 8 in the comparison (default 3; --quick: 2)
#   PYTHON       interpreter whose installation is the python corpus (default: python3)
#   ASYNCMOD     asyncmod binary to measure (default: cargo build --release)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUFF_VERSION="0.17.6"
VENV="$ROOT/bench/.venv"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/asyncmod-bench}"
RUNS="${RUNS:-5}"
SCALE_RUNS="${SCALE_RUNS:-3}"
JOBS_RUNS="${JOBS_RUNS:-3}"
SCALES=(1 2 4 8)
if [[ "${1:-}" == "--quick" ]]; then
  RUNS=3 SCALE_RUNS=2 SCALES=(1 2) JOBS_RUNS=2
elif [[ -n "${1:-}" ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d'
  exit 2
fi

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian: apt-get install time)"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "no $PYTHON"

# Folder names Ruff or asyncmod skip by default (src/walk.rs DEFAULT_EXCLUDES, Ruff's exclude).
case "/$BENCH_DIR/" in
  */.*/* | */build/* | */dist/* | */venv/* | */site-packages/* | */_build/* | */buck-out/* | \
    */node_modules/* | */__pypackages__/*)
    die "BENCH_DIR=$BENCH_DIR holds a folder name that Ruff or asyncmod skips by default" ;;
esac
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"

# ---------------------------------------------------------------------------------------------
# Tools
if [[ -z "${ASYNCMOD:-}" ]]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --locked --quiet)
  ASYNCMOD="$ROOT/target/release/asyncmod"
fi
[[ -x "$ASYNCMOD" ]] || die "asyncmod binary not executable: $ASYNCMOD"
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
RUFF="$VENV/bin/ruff"
if [[ "$("$RUFF" --version 2>/dev/null || true)" != "ruff $RUFF_VERSION" ]]; then
  log "pip install ruff==$RUFF_VERSION"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "ruff==$RUFF_VERSION"
fi
RUFF_ARGS=(check --no-cache --config 'exclude=[]' --config 'include=["*.py"]' --select ASYNC,RUF006)

# ---------------------------------------------------------------------------------------------
# Corpora
copy_python_files() { # SOURCE DEST: every .py file, hidden folders left out
  mkdir -p "$2"
  (cd "$1" && find . -name '.?*' -prune -o -type f -name '*.py' -print0 | tar --null -T - -cf -) |
    tar -xf - -C "$2"
}
megabytes() { find "$1" -type f -name '*.py' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }'; }
files_in() { find "$1" -type f -name '*.py' | wc -l; }

PY_CORPUS="$BENCH_DIR/python"
# (.utf8.done: corpora made before non-UTF-8 files were left out are made again.)
if [[ ! -f "$PY_CORPUS.utf8.done" ]]; then
  rm -f "$BENCH_DIR"/scale/*.done
  log "copying the Python installation's .py files to $PY_CORPUS"
  rm -rf "$PY_CORPUS"
  mapfile -t trees < <("$PYTHON" - "$VENV/bin/python" <<'EOF'
import subprocess, sys, sysconfig
paths = sysconfig.get_paths()
trees = [paths["stdlib"]]
for key in ("platstdlib", "purelib", "platlib"):
    if not any(paths[key] == t or paths[key].startswith(t + "/") for t in trees):
        trees.append(paths[key])
venv = subprocess.run([sys.argv[1], "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      capture_output=True, text=True, check=True).stdout.strip()
trees.append(venv)
print("\n".join(trees))
EOF
  )
  for i in "${!trees[@]}"; do
    name="tree$i-$(basename "${trees[$i]}")"
    [[ "$name" == *site-packages* || "$name" == *dist-packages* ]] && name="tree$i-packages"
    log "  ${trees[$i]} -> $name"
    copy_python_files "${trees[$i]}" "$PY_CORPUS/$name"
  done
  "$PYTHON" - "$PY_CORPUS" <<'EOF'
import os, sys
dropped = []
for dirpath, _, names in os.walk(sys.argv[1]):
    for name in names:
        path = os.path.join(dirpath, name)
        try:
            open(path, "rb").read().decode("utf-8")
        except UnicodeDecodeError:
            os.remove(path)
            dropped.append(os.path.relpath(path, sys.argv[1]))
print(f"==>   left out {len(dropped)} files that are not UTF-8: {', '.join(sorted(dropped))}", file=sys.stderr)
EOF
  touch "$PY_CORPUS.utf8.done"
fi

WHEELS="$BENCH_DIR/wheels"
WHEEL_CORPUS="$BENCH_DIR/apps"
eval "$(sed -n '/^PACKAGES=(/,/^)/p' "$ROOT/scripts/realcode.sh")"
[[ ${#PACKAGES[@]} -gt 0 ]] || die "no PACKAGES list in scripts/realcode.sh"
if [[ ! -f "$WHEEL_CORPUS.done" ]]; then
  log "downloading ${#PACKAGES[@]} pinned wheels"
  mkdir -p "$WHEELS"
  "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    -d "$WHEELS" "${PACKAGES[@]}"
  rm -rf "$WHEEL_CORPUS"
  for wheel in "$WHEELS"/*.whl; do
    "$VENV/bin/python" -m zipfile -e "$wheel" "$WHEEL_CORPUS/$(basename "$wheel" .whl)/"
  done
  touch "$WHEEL_CORPUS.done"
fi

for n in "${SCALES[@]}"; do
  dir="$BENCH_DIR/scale/${n}x"
  if [[ ! -f "$dir.done" ]]; then
    log "scale series: $n copies of the python corpus"
    rm -rf "$dir"
    mkdir -p "$dir"
    for ((copy = 1; copy <= n; copy++)); do
      cp -al "$PY_CORPUS" "$dir/copy$copy" 2>/dev/null || cp -a "$PY_CORPUS" "$dir/copy$copy"
    done
    touch "$dir.done"
  fi
done

# ---------------------------------------------------------------------------------------------
# Same files for both tools
# ruff_files DIR ARGS...: .py files Ruff lints with ARGS; asyncmod_files DIR ARGS...: files asyncmod
# checks with ARGS (from its summary line; it must exit 0 or 1).
ruff_files() {
  local dir="$1"
  shift
  (cd "$BENCH_DIR" && "$RUFF" "$@" --show-files "$dir" 2>/dev/null | grep -c '\.py$' || true)
}
asyncmod_files() {
  local dir="$1" summary code=0
  shift
  summary="$("$ASYNCMOD" check "$@" "$dir" 2>&1 >/dev/null)" || code=$?
  ((code <= 1)) || die "exit code $code from asyncmod check $* $dir: $(tail -n 3 <<<"$summary")"
  summary="$(tail -n 1 <<<"$summary")"
  [[ "$summary" =~ \(([0-9]+)\ checked || "$summary" =~ in\ ([0-9]+)\ files? ]] || die "no file count in: $summary"
  echo "${BASH_REMATCH[1]}"
}
ruff_count="$(ruff_files "$PY_CORPUS" "${RUFF_ARGS[@]}")"
asyncmod_count="$(asyncmod_files "$PY_CORPUS" --no-default-excludes)"
log "python corpus: ruff processes $ruff_count files, asyncmod $asyncmod_count"
[[ "$ruff_count" == "$asyncmod_count" && "$ruff_count" -gt 0 ]] ||
  die "the tools process different files on the python corpus ($ruff_count vs $asyncmod_count)"
# The apps corpus runs with both tools' default excludes (APPS_RUFF_ARGS); Ruff also lints .pyi
# stubs, which asyncmod skips, so .py files are compared.
APPS_RUFF_ARGS=(check --no-cache --select ASYNC,RUF006)
apps_ruff_count="$(ruff_files "$WHEEL_CORPUS" "${APPS_RUFF_ARGS[@]}")"
apps_asyncmod_count="$(asyncmod_files "$WHEEL_CORPUS")"
log "apps corpus: ruff processes $apps_ruff_count .py files, asyncmod $apps_asyncmod_count"
[[ "$apps_ruff_count" == "$apps_asyncmod_count" && "$apps_ruff_count" -gt 0 ]] ||
  die "the tools process different files on the apps corpus ($apps_ruff_count vs $apps_asyncmod_count)"

STATS="$BENCH_DIR/stats"
mkdir -p "$STATS"

# ---------------------------------------------------------------------------------------------
# The same output whatever the number of workers: check (text and json) and diff --unsafe-fixes
# with --jobs 1 once, then JOBS_RUNS times each with 2 and 8; stdout and stderr byte-identical.
first_difference() { # A B: where two outputs first differ
  "$VENV/bin/python" - "$1" "$2" <<'EOF'
import sys
a, b = (open(p, encoding="utf-8", errors="replace").read().split("\n") for p in sys.argv[1:3])
n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
show = lambda lines: repr(lines[n][:160]) if n < len(lines) else "<end of output>"
print(f"first at line {n + 1}: {show(a)} with --jobs 1, {show(b)} here")
EOF
}
jobs_compare() { # NAME ARGS...: asyncmod ARGS --jobs 1, 2, 8; each must exit 1, print, and match --jobs 1
  local name="$1" jobs i base code stream
  shift
  for jobs in 1 2 8; do
    for ((i = 1; i <= (jobs == 1 ? 1 : JOBS_RUNS); i++)); do
      base="$STATS/jobs.$name.j$jobs.$i" code=0
      "$ASYNCMOD" "$@" --jobs "$jobs" >"$base.out" 2>"$base.err" || code=$?
      ((code == 1)) || { head -n 20 "$base.err" >&2; die "exit code $code (expected 1) from: asyncmod $* --jobs $jobs"; }
      [[ -s "$base.out" ]] || die "no output from: asyncmod $* --jobs $jobs"
      for stream in out err; do
        cmp -s "$STATS/jobs.$name.j1.1.$stream" "$base.$stream" ||
          die "output depends on --jobs: asyncmod $* --jobs $jobs (run $i) and --jobs 1 differ on std$stream," \
            "$(first_difference "$STATS/jobs.$name.j1.1.$stream" "$base.$stream")"
      done
    done
  done
}
log "--jobs 1, 2 and 8 ($JOBS_RUNS runs each with 2 and 8): check (text, json) and diff on the python and apps corpora"
rm -f "$STATS"/jobs.*
jobs_compare python-check check --no-default-excludes "$PY_CORPUS"
jobs_compare python-json check --no-default-excludes -q --format json "$PY_CORPUS"
jobs_compare python-diff diff --unsafe-fixes --no-default-excludes "$PY_CORPUS"
jobs_compare apps-check check "$WHEEL_CORPUS"
jobs_compare apps-json check -q --format json "$WHEEL_CORPUS"
jobs_compare apps-diff diff --unsafe-fixes "$WHEEL_CORPUS"

# ---------------------------------------------------------------------------------------------
# Measuring
# run_once FILE EXPECT CMD...: appends "milliseconds peak_kb" to FILE. CMD must exit with EXPECT
# (1 for Ruff and asyncmod check, there are findings, and for diff, there is a diff; 0 for fix)
# and print something on stdout (findings, the diff, the findings fix left); anything else (a
# misspelt flag exits 2, a panic 101, zero findings 0) stops the bench: a failure is not a timing.
run_once() {
  local out="$1" expect="$2" start end code=0
  shift 2
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$STATS/rss" "$@" >"$STATS/stdout" 2>"$STATS/stderr" || code=$?
  end=$(date +%s%N)
  if ((code != expect)); then
    head -n 20 "$STATS/stderr" >&2
    die "exit code $code (expected $expect) from: $*"
  fi
  [[ -s "$STATS/stdout" ]] || { head -n 20 "$STATS/stderr" >&2; die "no output (no findings, no diff) from: $*"; }
  echo "$(( (end - start) / 1000000 )) $(tail -n 1 "$STATS/rss")" >>"$out"
}
median_s() { sort -n "$1" | awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f", m / 1000 }'; }
peak_mb() { awk '$2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# pair NAME DIR RUNS: alternates Ruff and asyncmod check on DIR.
pair() {
  local name="$1" dir="$2" runs="$3"
  rm -f "$STATS/$name.ruff" "$STATS/$name.asyncmod"
  # One warm-up each, so both read from the page cache.
  run_once /dev/null 1 "$RUFF" "${RUFF_ARGS[@]}" "$dir"
  run_once /dev/null 1 "$ASYNCMOD" check --no-default-excludes -q "$dir"
  for ((i = 0; i < runs; i++)); do
    run_once "$STATS/$name.ruff" 1 "$RUFF" "${RUFF_ARGS[@]}" "$dir"
    run_once "$STATS/$name.asyncmod" 1 "$ASYNCMOD" check --no-default-excludes -q "$dir"
  done
}

cd "$BENCH_DIR"
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "Machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr);" \
  "$("$RUFF" --version), asyncmod $("$ASYNCMOD" --version | cut -d' ' -f2) (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)); median of $RUNS alternating runs."
echo

log "python corpus: $RUNS runs each"
pair python "$PY_CORPUS" "$RUNS"
echo "| corpus | files | MB | Ruff | asyncmod | asyncmod/Ruff | peak RSS Ruff | peak RSS asyncmod |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
r="$(median_s "$STATS/python.ruff")" a="$(median_s "$STATS/python.asyncmod")"
echo "| python (stdlib + site-packages) | $ruff_count | $(megabytes "$PY_CORPUS") | ${r} s | ${a} s | $(ratio "$a" "$r") |" \
  "$(peak_mb "$STATS/python.ruff") MB | $(peak_mb "$STATS/python.asyncmod") MB |"

log "apps corpus: $RUNS runs each of ruff, check, diff, fix"
rm -f "$STATS"/apps.*
run_once /dev/null 1 "$ASYNCMOD" check -q "$WHEEL_CORPUS"
for ((i = 0; i < RUNS; i++)); do
  run_once "$STATS/apps.ruff" 1 "$RUFF" "${APPS_RUFF_ARGS[@]}" "$WHEEL_CORPUS"
  run_once "$STATS/apps.check" 1 "$ASYNCMOD" check -q "$WHEEL_CORPUS"
  run_once "$STATS/apps.diff" 1 "$ASYNCMOD" diff -q "$WHEEL_CORPUS"
  rm -rf "$BENCH_DIR/apps-fix" && cp -a "$WHEEL_CORPUS" "$BENCH_DIR/apps-fix"
  run_once "$STATS/apps.fix" 0 "$ASYNCMOD" fix -q "$BENCH_DIR/apps-fix"
  ! diff -rq "$WHEEL_CORPUS" "$BENCH_DIR/apps-fix" >/dev/null || die "asyncmod fix changed nothing in the apps corpus"
done
r="$(median_s "$STATS/apps.ruff")" c="$(median_s "$STATS/apps.check")"
d="$(median_s "$STATS/apps.diff")" f="$(median_s "$STATS/apps.fix")"
echo "| apps ($(ls "$WHEEL_CORPUS" | wc -l) wheels), check | $(files_in "$WHEEL_CORPUS") | $(megabytes "$WHEEL_CORPUS") | ${r} s | ${c} s |" \
  "$(ratio "$c" "$r") | $(peak_mb "$STATS/apps.ruff") MB | $(peak_mb "$STATS/apps.check") MB |"
echo
echo "| apps corpus | median | vs check | peak RSS |"
echo "|---|---:|---:|---:|"
for mode in check diff fix; do
  m="$(median_s "$STATS/apps.$mode")"
  echo "| asyncmod $mode | ${m} s | $(ratio "$m" "$c")x | $(peak_mb "$STATS/apps.$mode") MB |"
done

echo
echo "| scale | files | MB | Ruff | asyncmod | asyncmod/Ruff | asyncmod ms/MB (vs 1x) | peak RSS Ruff | peak RSS asyncmod (vs 1x) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
base_per_mb="" base_rss=""
for n in "${SCALES[@]}"; do
  dir="$BENCH_DIR/scale/${n}x"
  log "scale ${n}x: $SCALE_RUNS runs each"
  pair "scale$n" "$dir" "$SCALE_RUNS"
  mb="$(awk -v n="$n" -v m="$(megabytes "$PY_CORPUS")" 'BEGIN { printf "%.1f", n * m }')"
  r="$(median_s "$STATS/scale$n.ruff")" a="$(median_s "$STATS/scale$n.asyncmod")"
  per_mb="$(awk -v a="$a" -v m="$mb" 'BEGIN { printf "%.2f", 1000 * a / m }')"
  rss="$(peak_mb "$STATS/scale$n.asyncmod")"
  base_per_mb="${base_per_mb:-$per_mb}" base_rss="${base_rss:-$rss}"
  echo "| ${n}x | $((n * ruff_count)) | $mb | ${r} s | ${a} s | $(ratio "$a" "$r") | $per_mb ($(ratio "$per_mb" "$base_per_mb")x) |" \
    "$(peak_mb "$STATS/scale$n.ruff") MB | $rss MB ($(ratio "$rss" "$base_rss")x) |"
done

# ---------------------------------------------------------------------------------------------
# Coverage: what Ruff finds, asyncmod must find too (the codes and transforms of bench/ruff_codes.txt).
CODES_FILE="$ROOT/bench/ruff_codes.txt"
[[ -f "$CODES_FILE" ]] || die "no $CODES_FILE"
codes="$(awk '!/^#/ && NF { print $1 }' "$CODES_FILE" | sort -u | paste -sd, -)"
[[ -n "$codes" ]] || die "no Ruff code in $CODES_FILE"
log "coverage check on the python and apps corpora: $codes"
code=0
"$RUFF" check --no-cache --config 'exclude=[]' --config 'include=["*.py"]' --select "$codes" \
  --output-format json "$PY_CORPUS" "$WHEEL_CORPUS" >"$STATS/ruff.json" 2>"$STATS/ruff.err" || code=$?
((code == 1)) || { head -n 20 "$STATS/ruff.err" >&2; die "exit code $code (expected 1, findings) from ruff in the coverage check"; }
code=0
"$ASYNCMOD" check --no-default-excludes -q --format json "$PY_CORPUS" "$WHEEL_CORPUS" >"$STATS/asyncmod.json" \
  2>"$STATS/asyncmod.err" || code=$?
((code == 1)) || { head -n 20 "$STATS/asyncmod.err" >&2; die "exit code $code (expected 1, findings) from asyncmod in the coverage check"; }
echo
"$VENV/bin/python" - "$STATS/ruff.json" "$STATS/asyncmod.json" "$ROOT/transforms" "$CODES_FILE" <<'EOF'
import json, os, re, sys
ruff = json.load(open(sys.argv[1]))
mine = json.load(open(sys.argv[2]))["findings"]
covers = {}  # Ruff code -> asyncmod transforms that claim it
for name in sorted(os.listdir(sys.argv[3])):
    if name.endswith(".toml"):
        text = open(os.path.join(sys.argv[3], name), encoding="utf-8").read()
        ident = re.search(r'^id\s*=\s*"([^"]+)"', text, re.M)
        codes = re.search(r'^ruff\s*=\s*\[([^\]]*)\]', text, re.M)
        for code in re.findall(r'"([^"]+)"', codes.group(1)) if ident and codes else []:
            covers.setdefault(code, []).append(ident.group(1))
rows = []
for line in open(sys.argv[4], encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        words = line.split(None, 4)
        if len(words) < 4 or words[3] not in ("check", "skip") or (words[3] == "skip" and len(words) < 5):
            sys.exit(f"bench/ruff_codes.txt: not CODE TRANSFORM FILTER check|skip REASON: {line.rstrip()}")
        rows.append((words[0], words[1], words[2], words[3], words[4].strip() if len(words) > 4 else ""))
found = {(os.path.realpath(f["path"]), f["start"]["line"], f["transform"]) for f in mine}
lines_cache = {}
def call_text(finding):
    path = finding["filename"]
    if path not in lines_cache:
        lines_cache[path] = open(path, encoding="utf-8", errors="replace").read().splitlines()
    lines = lines_cache[path]
    start, end = finding["location"], finding["end_location"]
    return "\n".join(lines[start["row"] - 1 : end["row"]])
failures = []
listed = {(code, transform) for code, transform, *_ in rows}
for code, transforms in sorted(covers.items()):
    for t in transforms:
        if (code, t) not in listed:
            failures.append(f"{code}: claimed by {t} (transforms/{t}.toml) but not in bench/ruff_codes.txt")
print("| Ruff code | asyncmod transform | Ruff findings | asyncmod finds | missing |")
print("|---|---|---:|---:|---:|")
for code, transform, filt, status, reason in rows:
    label = code if filt == "-" else f"{code} ({filt})"
    theirs = [f for f in ruff if f["code"] == code and (filt == "-" or filt in call_text(f))]
    if status == "skip":
        print(f"| {label} | {transform} | {len(theirs)} | not checked: {reason} | |")
        if theirs:
            failures.append(f"{label}: marked skip ({reason}) but Ruff finds {len(theirs)}: check it")
        continue
    if transform not in covers.get(code, []):
        failures.append(f"{label}: no transform claims it ({transform} does not list it in `ruff = [...]`)")
    if not theirs:
        failures.append(f"{label}: Ruff finds none on the corpora, so the check cannot fail")
    missing = [f for f in theirs if (os.path.realpath(f["filename"]), f["location"]["row"], transform) not in found]
    print(f"| {label} | {transform} | {len(theirs)} | {len(theirs) - len(missing)} | {len(missing)} |")
    for f in missing[:5]:
        print(f"|   missing | {os.path.relpath(f['filename'])}:{f['location']['row']} | | | |")
    if missing:
        failures.append(f"{label}: {transform} misses {len(missing)} of Ruff's {len(theirs)} findings")
for f in failures:
    print(f"bench/run.sh: coverage: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
