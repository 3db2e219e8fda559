#!/usr/bin/env bash
# asyncmod against Ruff, side by side, on the same files. Rerunnable on a fresh machine: it builds
# the release binary, installs pinned Ruff with pip into bench/.venv, prepares the corpora and
# prints markdown tables (the README's Performance section is one such run).
#
# Corpora (in $BENCH_DIR, default /tmp/asyncmod-bench; its path must hold no folder name that
# either tool skips by default, such as build, dist, venv, site-packages or a hidden folder):
#   python  every .py file of the local Python installation: the sysconfig stdlib dir with its
#           site-packages, any purelib/platlib outside it, and the bench venv's packages.
#           Ruff runs with --config 'exclude=[]' --config 'include=["*.py"]' and asyncmod with
#           --no-default-excludes, so that both process the same files; the script checks the
#           file counts agree.
#   wheels  pinned wheels of real async applications (the list in scripts/realcode.sh),
#           downloaded with pip --no-deps --only-binary :all: and unpacked: check / diff / fix.
#   scale   the python corpus copied 1x, 2x, 4x, 8x (hard links): time per MB and peak RSS.
# Each pair runs alternately (ruff, asyncmod, ruff, ...) RUNS times; the tables give the median
# wall time, the asyncmod/Ruff ratio and the highest peak RSS of the runs (/usr/bin/time).
# Then a coverage check: every ASYNC251, RUF006, ASYNC210 (on requests) and ASYNC230 finding of
# Ruff on the python corpus must be found by asyncmod's default transforms at the same line.
#
# Usage: bench/run.sh [--quick]     --quick: RUNS=3, scale series 1x and 2x only
# Environment:
#   BENCH_DIR    work folder for corpora and wheels (default: ${TMPDIR:-/tmp}/asyncmod-bench)
#   RUNS         runs per tool and corpus (default 5); SCALE_RUNS for the scale series (default 3)
#   PYTHON       interpreter whose installation is the python corpus (default: python3)
#   ASYNCMOD     asyncmod binary to measure (default: cargo build --release)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUFF_VERSION="0.17.6"
VENV="$ROOT/bench/.venv"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/asyncmod-bench}"
RUNS="${RUNS:-5}"
SCALE_RUNS="${SCALE_RUNS:-3}"
SCALES=(1 2 4 8)
if [[ "${1:-}" == "--quick" ]]; then
  RUNS=3 SCALE_RUNS=2 SCALES=(1 2)
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
if [[ ! -f "$PY_CORPUS.done" ]]; then
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
  touch "$PY_CORPUS.done"
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
ruff_files() { (cd "$BENCH_DIR" && "$RUFF" "${RUFF_ARGS[@]}" --show-files "$1" 2>/dev/null | grep -c '\.py$' || true); }
asyncmod_files() {
  local summary
  summary="$("$ASYNCMOD" check --no-default-excludes "$1" 2>&1 >/dev/null | tail -n 1 || true)"
  [[ "$summary" =~ \(([0-9]+)\ checked || "$summary" =~ in\ ([0-9]+)\ files? ]] || die "no file count in: $summary"
  echo "${BASH_REMATCH[1]}"
}
ruff_count="$(ruff_files "$PY_CORPUS")"
asyncmod_count="$(asyncmod_files "$PY_CORPUS")"
log "python corpus: ruff processes $ruff_count files, asyncmod $asyncmod_count"
[[ "$ruff_count" == "$asyncmod_count" ]] || die "the tools process different files ($ruff_count vs $asyncmod_count)"

# ---------------------------------------------------------------------------------------------
# Measuring
STATS="$BENCH_DIR/stats"
mkdir -p "$STATS"
# run_once FILE CMD...: appends "seconds peak_kb" to FILE. Exit codes 0-2 are normal (findings,
# diffs, unreadable files in the corpus); anything else stops the bench.
run_once() {
  local out="$1" start end code=0
  shift
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$STATS/rss" "$@" >/dev/null 2>"$STATS/stderr" || code=$?
  end=$(date +%s%N)
  ((code <= 2)) || { cat "$STATS/stderr" >&2; die "exit code $code from: $*"; }
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
  run_once /dev/null "$RUFF" "${RUFF_ARGS[@]}" "$dir"
  run_once /dev/null "$ASYNCMOD" check --no-default-excludes -q "$dir"
  for ((i = 0; i < runs; i++)); do
    run_once "$STATS/$name.ruff" "$RUFF" "${RUFF_ARGS[@]}" "$dir"
    run_once "$STATS/$name.asyncmod" "$ASYNCMOD" check --no-default-excludes -q "$dir"
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
run_once /dev/null "$ASYNCMOD" check -q "$WHEEL_CORPUS"
for ((i = 0; i < RUNS; i++)); do
  run_once "$STATS/apps.ruff" "$RUFF" check --no-cache --select ASYNC,RUF006 "$WHEEL_CORPUS"
  run_once "$STATS/apps.check" "$ASYNCMOD" check -q "$WHEEL_CORPUS"
  run_once "$STATS/apps.diff" "$ASYNCMOD" diff -q "$WHEEL_CORPUS"
  rm -rf "$BENCH_DIR/apps-fix" && cp -a "$WHEEL_CORPUS" "$BENCH_DIR/apps-fix"
  run_once "$STATS/apps.fix" "$ASYNCMOD" fix -q "$BENCH_DIR/apps-fix"
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
# Coverage: what Ruff finds, asyncmod must find too.
log "coverage check on the python corpus"
"$RUFF" check --no-cache --config 'exclude=[]' --config 'include=["*.py"]' \
  --select ASYNC251,RUF006,ASYNC210,ASYNC230 --output-format json "$PY_CORPUS" >"$STATS/ruff.json" 2>/dev/null || true
"$ASYNCMOD" check --no-default-excludes -q --format json "$PY_CORPUS" >"$STATS/asyncmod.json" 2>/dev/null || true
echo
"$VENV/bin/python" - "$STATS/ruff.json" "$STATS/asyncmod.json" "$ROOT/transforms" <<'EOF'
import json, os, re, sys
ruff = json.load(open(sys.argv[1]))
mine = json.load(open(sys.argv[2]))["findings"]
covers = {}  # Ruff code -> asyncmod transforms that report it
for name in sorted(os.listdir(sys.argv[3])):
    if name.endswith(".toml"):
        text = open(os.path.join(sys.argv[3], name), encoding="utf-8").read()
        ident = re.search(r'^id\s*=\s*"([^"]+)"', text, re.M)
        codes = re.search(r'^ruff\s*=\s*\[([^\]]*)\]', text, re.M)
        for code in re.findall(r'"([^"]+)"', codes.group(1)) if ident and codes else []:
            covers.setdefault(code, []).append(ident.group(1))
found = {(os.path.realpath(f["path"]), f["start"]["line"], f["transform"]) for f in mine}
lines_cache = {}
def call_text(finding):
    path = finding["filename"]
    if path not in lines_cache:
        lines_cache[path] = open(path, encoding="utf-8", errors="replace").read().splitlines()
    lines = lines_cache[path]
    start, end = finding["location"], finding["end_location"]
    chunk = lines[start["row"] - 1 : end["row"]]
    return "\n".join(chunk)
failed = False
print("| Ruff code | asyncmod transform | Ruff findings | asyncmod finds | missing |")
print("|---|---|---:|---:|---:|")
for code, label in [("ASYNC251", "ASYNC251"), ("RUF006", "RUF006"), ("ASYNC210", "ASYNC210 (requests)"), ("ASYNC230", "ASYNC230")]:
    theirs = [f for f in ruff if f["code"] == code]
    if code == "ASYNC210":
        theirs = [f for f in theirs if "requests" in call_text(f)]
    transforms = covers.get(code, [])
    missing = [f for f in theirs
               if not any((os.path.realpath(f["filename"]), f["location"]["row"], t) in found for t in transforms)]
    name = ", ".join(transforms) or "none on this branch"
    print(f"| {label} | {name} | {len(theirs)} | {len(theirs) - len(missing)} | {len(missing)} |")
    for f in missing[:5]:
        print(f"|   missing | {os.path.relpath(f['filename'])}:{f['location']['row']} | | | |")
    failed |= bool(missing) and bool(transforms)
sys.exit(1 if failed else 0)
EOF
