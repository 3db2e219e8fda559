#!/usr/bin/env bash
# Real-code self-check for asyncmod.
#
# Downloads pinned wheels of real async Python projects, runs `asyncmod fix --unsafe-fixes` over an
# unpacked copy and checks that it broke nothing:
#   * every changed file that compiled before still compiles (python -m py_compile semantics),
#   * a second `asyncmod fix` changes nothing (checksums),
#   * `asyncmod check` afterwards reports no finding that is still fixable,
#   * ruff F821/F811/F823/F841 report no more than before (compared per file and rule),
#   * ruff ASYNC251 + RUF006 are lower afterwards (and higher for no project).
# Prints a summary table; exits nonzero on any violation.
#
# Usage: scripts/realcode.sh [--baseline-only] [--keep] [--workdir DIR]
#   --baseline-only  download + ruff baseline only (no asyncmod needed)
#   --keep           keep the temporary work directory even on success
#   --workdir DIR    use DIR (must not exist yet) instead of a fresh mktemp directory
# Environment:
#   ASYNCMOD        asyncmod binary to test (default: cargo build --release, then target/release/asyncmod)
#   REALCODE_VENV   venv directory (default: <repo>/.venv-realcode)
#   REALCODE_CACHE  wheel cache (default: $REALCODE_VENV/wheels)
#   PYTHON          interpreter used to create the venv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${REALCODE_VENV:-$ROOT/.venv-realcode}"
CACHE_DIR="${REALCODE_CACHE:-$VENV_DIR/wheels}"
RUFF_VERSION="0.17.6"

# Pinned wheels. Counts are ruff $RUFF_VERSION findings in the unpacked wheel (ASYNC251 / RUF006).
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
)

BASELINE_ONLY=0
KEEP=0
WORK=""
while (($#)); do
  case "$1" in
    --baseline-only) BASELINE_ONLY=1 ;;
    --keep) KEEP=1 ;;
    --workdir) WORK="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "realcode.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# 1. venv with pinned ruff
if [[ ! -x "$VENV_DIR/bin/python" ]]; then
  log "creating venv $VENV_DIR"
  "${PYTHON:-python3}" -m venv "$VENV_DIR"
fi
PY="$VENV_DIR/bin/python"
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
cleanup() {
  local rc=$?
  if ((rc == 0 && KEEP == 0)); then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi
}
trap cleanup EXIT

mkdir -p "$WORK/orig"
PKG_NAMES=()
for spec in "${PACKAGES[@]}"; do
  name="${spec%%==*}"; ver="${spec##*==}"
  PKG_NAMES+=("$name")
  "$PY" -m zipfile -e "$(wheel_for "$name" "$ver")" "$WORK/orig/$name"
done
cp -a "$WORK/orig" "$WORK/src"

# ---------------------------------------------------------------------------------------------
# Python helper: snapshots (checksums + compile status), ruff parsing, comparisons, table.
HELPER="$WORK/helper.py"
cat >"$HELPER" <<'PYHELPER'
import hashlib, json, os, re, subprocess, sys
from collections import Counter

def walk(root):
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            if os.path.isfile(p) and not os.path.islink(p):
                yield os.path.relpath(p, root)

def compiles(path):
    # Same as `python -m py_compile`: compile(source_bytes, path, "exec", dont_inherit=True),
    # without writing a .pyc into the tree.
    try:
        with open(path, "rb") as f:
            compile(f.read(), path, "exec", dont_inherit=True)
        return True, ""
    except (SyntaxError, ValueError, UnicodeDecodeError) as e:
        return False, f"{type(e).__name__}: {e}"

def snapshot(root, out, with_compile):
    snap = {}
    for rel in walk(root):
        p = os.path.join(root, rel)
        with open(p, "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        entry = {"sha": h}
        if with_compile and rel.endswith(".py"):
            ok, err = compiles(p)
            entry["ok"] = ok
            if not ok:
                entry["err"] = err
        snap[rel] = entry
    json.dump(snap, open(out, "w"), indent=0, sort_keys=True)

LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) ")

def ruff(ruff_bin, root, out):
    codes = "ASYNC251,RUF006,F821,F811,F823,F841"
    proc = subprocess.run(
        [ruff_bin, "check", "--isolated", "--no-cache", "--exit-zero", "--target-version", "py311",
         "--select", codes, "--output-format", "concise", "."],
        capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"ruff failed with exit code {proc.returncode}")
    per = Counter()  # (relpath, code) -> n
    lines = []
    for line in proc.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        rel = os.path.normpath(m["path"])
        per[(rel, m["code"])] += 1
        lines.append(f"{rel}:{m['row']}:{m['col']}: {line[m.start('code'):]}")
    json.dump({"counts": [[p, c, n] for (p, c), n in sorted(per.items())], "lines": lines},
              open(out, "w"), indent=0)

def load(p):
    return json.load(open(p))

def pkg_of(rel):
    return rel.split(os.sep, 1)[0]

def counts(ruffjson):
    return Counter({(p, c): n for p, c, n in load(ruffjson)["counts"]})

def report(work, packages, fix1_rc, fix2_rc, check_json):
    """Compare the snapshots and ruff results; print table + violations; exit 1 on violation."""
    before = load(f"{work}/snap_before.json")
    after = load(f"{work}/snap_after1.json")
    after2 = load(f"{work}/snap_after2.json")
    rb, ra = counts(f"{work}/ruff_before.json"), counts(f"{work}/ruff_after.json")
    check = load(check_json)
    violations = []

    changed = sorted(r for r in after if r in before and after[r]["sha"] != before[r]["sha"])
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    for r in added:
        violations.append(f"file created by fix: {r}")
    for r in removed:
        violations.append(f"file deleted by fix: {r}")
    broken, changed_uncompilable, non_py = [], [], []
    for r in changed:
        if not r.endswith(".py"):
            non_py.append(r)
            violations.append(f"non-Python file changed: {r}")
            continue
        if before[r].get("ok") and not after[r].get("ok"):
            broken.append(r)
            violations.append(f"BROKEN (compiled before, not after): {r}: {after[r].get('err')}")
        elif not before[r].get("ok"):
            changed_uncompilable.append(r)
    not_idem = sorted(r for r in set(after) | set(after2)
                      if after.get(r, {}).get("sha") != after2.get(r, {}).get("sha"))
    for r in not_idem:
        violations.append(f"second fix changed: {r}")
    if fix1_rc not in (0, 1):
        violations.append(f"first `asyncmod fix` exited {fix1_rc}")
    if fix2_rc not in (0, 1):
        violations.append(f"second `asyncmod fix` exited {fix2_rc}")
    if check.get("error"):
        violations.append(f"`asyncmod check` after fix: {check['error']}")
    for f in check.get("fixable", []):
        violations.append(f"still fixable after fix: {f}")
    for e in check.get("errors", []):
        violations.append(f"`asyncmod check` error: {e}")

    fcodes = ("F821", "F811", "F823", "F841")
    for key in sorted(set(rb) | set(ra)):
        p, c = key
        if c in fcodes and ra[key] > rb[key]:
            violations.append(f"ruff {c} increased in {p}: {rb[key]} -> {ra[key]}")

    def tot(cnt, pkg, codes):
        return sum(n for (p, c), n in cnt.items() if pkg_of(p) == pkg and c in codes)

    rows = []
    T = Counter()
    for pkg in packages:
        pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
        okb = sum(1 for r in pyfiles if before[r].get("ok"))
        ch = sum(1 for r in changed if pkg_of(r) == pkg)
        br = sum(1 for r in broken if pkg_of(r) == pkg)
        ni = sum(1 for r in not_idem if pkg_of(r) == pkg)
        fx = sum(1 for f in check.get("fixable", []) if pkg_of(f) == pkg)
        a_b, a_a = tot(rb, pkg, ("ASYNC251",)), tot(ra, pkg, ("ASYNC251",))
        r_b, r_a = tot(rb, pkg, ("RUF006",)), tot(ra, pkg, ("RUF006",))
        f_b, f_a = tot(rb, pkg, fcodes), tot(ra, pkg, fcodes)
        if a_a + r_a > a_b + r_b:
            violations.append(f"ruff ASYNC251+RUF006 increased in {pkg}: {a_b + r_b} -> {a_a + r_a}")
        rows.append([pkg, len(pyfiles), okb, ch, br, ni, fx, f"{a_b}->{a_a}", f"{r_b}->{r_a}", f"{f_b}->{f_a}"])
        for k, v in dict(py=len(pyfiles), ok=okb, ch=ch, br=br, ni=ni, fx=fx, ab=a_b, aa=a_a,
                         rb=r_b, ra=r_a, fb=f_b, fa=f_a).items():
            T[k] += v
    rows.append(["TOTAL", T["py"], T["ok"], T["ch"], T["br"], T["ni"], T["fx"],
                 f"{T['ab']}->{T['aa']}", f"{T['rb']}->{T['ra']}", f"{T['fb']}->{T['fa']}"])
    if T["aa"] + T["ra"] >= T["ab"] + T["rb"] and T["ab"] + T["rb"] > 0:
        violations.append(f"ruff ASYNC251+RUF006 not lower overall: {T['ab'] + T['rb']} -> {T['aa'] + T['ra']}")

    hdr = ["package", ".py", "compiled", "changed", "broken", "!idem", "fixable", "ASYNC251", "RUF006", "F8xx"]
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = lambda r: "  ".join(str(v).ljust(w[i]) if i == 0 else str(v).rjust(w[i]) for i, v in enumerate(r))
    print()
    print(line(hdr))
    print("  ".join("-" * x for x in w))
    for r in rows[:-1]:
        print(line(r))
    print("  ".join("-" * x for x in w))
    print(line(rows[-1]))
    print()
    print("columns: compiled = .py files that compiled before; changed = files changed by the first fix;")
    print("broken = changed files that compiled before and not after; !idem = files the second fix changed;")
    print("fixable = findings `asyncmod check` still reports as fixable; ruff columns are before->after")
    print("(F8xx = F821+F811+F823+F841).")
    if changed_uncompilable:
        print(f"\nnote: {len(changed_uncompilable)} changed file(s) did not compile before either:")
        for r in changed_uncompilable:
            print(f"  {r}")
    if check.get("reasons"):
        print(f"\nasyncmod check after fix: {check.get('findings')} finding(s) left, none fixable expected; by reason:")
        for k, n in sorted(check["reasons"].items(), key=lambda kv: -kv[1]):
            print(f"  {n:4d}  {k}")
    remaining = [l for l in load(f"{work}/ruff_after.json")["lines"] if " ASYNC251 " in l or " RUF006 " in l]
    if remaining:
        print(f"\nruff ASYNC251/RUF006 findings left after fix ({len(remaining)}):")
        for l in remaining:
            print(f"  {l}")
    with open(f"{work}/broken.txt", "w") as f:
        f.write("".join(r + "\n" for r in broken))
    with open(f"{work}/nonidem.txt", "w") as f:
        f.write("".join(r + "\n" for r in not_idem))
    if violations:
        print(f"\nVIOLATIONS ({len(violations)}):")
        for v in violations:
            print(f"  - {v}")
        return 1
    print("\nOK: no violations")
    return 0

def baseline_report(work, packages):
    rb = counts(f"{work}/ruff_before.json")
    before = load(f"{work}/snap_before.json")
    print(f"\n{'package':<16} {'.py':>5} {'compiled':>8} {'ASYNC251':>8} {'RUF006':>6} {'F8xx':>5}")
    for pkg in packages:
        pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
        okb = sum(1 for r in pyfiles if before[r].get("ok"))
        g = lambda codes: sum(n for (p, c), n in rb.items() if pkg_of(p) == pkg and c in codes)
        print(f"{pkg:<16} {len(pyfiles):>5} {okb:>8} {g(('ASYNC251',)):>8} {g(('RUF006',)):>6} "
              f"{g(('F821', 'F811', 'F823', 'F841')):>5}")
    return 0

def check_output(work, root, rc, stdout_path):
    """Parse `asyncmod check --format json`; record findings whose fix is still available.

    Schema: {"findings": [{"path", "transform", "start": {"line"}, "fix": {...} | null,
    "no_fix_reason": str | null}], "errors": [{"path", "message"}]}.
    """
    text = open(stdout_path, encoding="utf-8", errors="replace").read()
    res = {"rc": rc, "fixable": [], "findings": 0, "reasons": {}, "errors": []}
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        res["error"] = "could not parse `asyncmod check --format json` output (see check.out)"
        json.dump(res, open(f"{work}/check.json", "w"), indent=0)
        return
    rel = lambda p: os.path.relpath(os.path.abspath(p), os.path.abspath(root))
    reasons = Counter()
    for d in data.get("findings", []):
        res["findings"] += 1
        where = f"{rel(d.get('path', '?'))}:{(d.get('start') or {}).get('line', '?')}: {d.get('transform', '?')}"
        if d.get("fix") is not None:
            res["fixable"].append(f"{where} (fix {d['fix'].get('safety')}, applicable={d['fix'].get('applicable')})")
        else:
            reasons[f"{d.get('transform')}: {d.get('no_fix_reason')}"] += 1
    res["reasons"] = dict(reasons)
    res["errors"] = [f"{rel(e.get('path', '?'))}: {e.get('message')}" for e in data.get("errors", [])]
    if rc not in (0, 1):
        res["error"] = f"`asyncmod check` exited {rc}"
    json.dump(res, open(f"{work}/check.json", "w"), indent=0)

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "snapshot":
        snapshot(args[0], args[1], args[2] == "1")
    elif cmd == "ruff":
        ruff(*args)
    elif cmd == "report":
        sys.exit(report(args[0], args[1].split(","), int(args[2]), int(args[3]), args[4]))
    elif cmd == "baseline":
        sys.exit(baseline_report(args[0], args[1].split(",")))
    elif cmd == "check":
        check_output(args[0], args[1], int(args[2]), args[3])
    else:
        sys.exit(f"unknown helper command {cmd}")
PYHELPER

pkgs_csv="$(IFS=,; echo "${PKG_NAMES[*]}")"
SRC="$WORK/src"

# ---------------------------------------------------------------------------------------------
# 5. before: checksums, compile status, ruff
log "baseline: checksums, compile status, ruff"
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_before.json" 1
"$PY" "$HELPER" ruff "$RUFF" "$SRC" "$WORK/ruff_before.json"

if ((BASELINE_ONLY)); then
  "$PY" "$HELPER" baseline "$WORK" "$pkgs_csv"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 6. asyncmod fix (twice), asyncmod check, ruff after
log "asyncmod fix --unsafe-fixes (1st run)"
fix1_rc=0
"$ASYNCMOD" fix --unsafe-fixes "$SRC" >"$WORK/fix1.out" 2>"$WORK/fix1.err" || fix1_rc=$?
tail -n 1 "$WORK/fix1.err" >&2 || true
if ((fix1_rc != 0)); then
  echo "asyncmod fix exited $fix1_rc; stderr (first 50 lines):" >&2
  head -n 50 "$WORK/fix1.err" >&2 || true
fi
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_after1.json" 1
cp -a "$SRC" "$WORK/after1"

log "asyncmod fix --unsafe-fixes (2nd run, must change nothing)"
fix2_rc=0
"$ASYNCMOD" fix --unsafe-fixes "$SRC" >"$WORK/fix2.out" 2>"$WORK/fix2.err" || fix2_rc=$?
"$PY" "$HELPER" snapshot "$SRC" "$WORK/snap_after2.json" 0

log "asyncmod check (must report nothing fixable)"
check_rc=0
"$ASYNCMOD" check --unsafe-fixes --format json --quiet "$SRC" \
  >"$WORK/check.out" 2>"$WORK/check.err" || check_rc=$?
"$PY" "$HELPER" check "$WORK" "$SRC" "$check_rc" "$WORK/check.out"

log "ruff after"
"$PY" "$HELPER" ruff "$RUFF" "$SRC" "$WORK/ruff_after.json"

# ---------------------------------------------------------------------------------------------
# 7. diffs and report
(cd "$WORK" && diff -ruN orig after1 >"$WORK/fix.diff") || true
report_rc=0
"$PY" "$HELPER" report "$WORK" "$pkgs_csv" "$fix1_rc" "$fix2_rc" "$WORK/check.json" || report_rc=$?
nfiles="$(grep -c '^+++ ' "$WORK/fix.diff" || true)"
if ((report_rc != 0 || KEEP)); then
  echo "full diff of the fix: $WORK/fix.diff ($nfiles files)"
else
  echo "the fix changed $nfiles files (rerun with --keep to inspect the diff)"
fi
if [[ -s "$WORK/broken.txt" ]]; then
  echo
  echo "diffs of files the fix broke (original -> after 1st fix):"
  while IFS= read -r rel; do
    (cd "$WORK" && diff -u "orig/$rel" "after1/$rel") || true
  done <"$WORK/broken.txt"
fi
if [[ -s "$WORK/nonidem.txt" ]]; then
  echo
  echo "diffs of files the 2nd fix changed (after 1st fix -> after 2nd fix):"
  while IFS= read -r rel; do
    (cd "$WORK" && diff -u "after1/$rel" "src/$rel") || true
  done <"$WORK/nonidem.txt"
fi
exit "$report_rc"
