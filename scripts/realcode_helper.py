"""Helper for scripts/realcode.sh: snapshots, ruff, asyncmod output parsing, comparisons, tables.

Layout of the work directory (WORK):
  orig/<pkg>/...      pristine copy (for diffs and compile-before)
  src/<pkg>/...       what asyncmod rewrites (`fix --jobs 8`)
  fixj1/<pkg>/...     a second copy of orig/, fixed with `fix --jobs 1` (must end as src/ does)
  after1/<pkg>/...    copies of the files the first fix changed (as they were after it)
  runs/<corpus>.<step>.{out,err,rc,sec}
                      one asyncmod invocation; see STEPS and JOBS_KINDS
  corpora.json        {"corpora": {"wheels": [pkg, ...], "stdlib": ["stdlib"]}, "python": "3.11.7",
                       "full_stdlib": false, "jobs_runs": 3}
Packages are the first path component under src/, except that src/stdlib/site-packages/ is its own
package "stdlib/site-packages" (third-party code, reported separately from the standard library).

Commands (all print to stdout; `report` exits 1 on a violation):
  snapshot ROOT OUT WITH_COMPILE   checksums of every file (+ compile status of every .py if 1)
  ruff-codes                       the Ruff codes counted (comma-separated)
  ruff RUFF ROOT OUT               ruff over ROOT, the codes of `ruff-codes`
  keep-changed WORK                copy the files the first fix changed to after1/
  baseline WORK                    ruff-only table (--baseline-only)
  report WORK [--update-expected]  all checks and tables; with --update-expected, rewrite
                                   scripts/realcode_expected.txt from this run instead of
                                   comparing with it (every other check still applies)
"""
import difflib, hashlib, json, math, os, re, shutil, subprocess, sys, warnings
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(ROOT, "scripts", "realcode_expected.txt")
# Steps every corpus must have run (run_asyncmod in realcode.sh), besides the jobs runs.
STEPS = ("check-before", "check-whole", "diff-sliced", "diff-whole", "fix1", "fix-j1", "fix2", "check-after")
# Jobs comparison: runs/<corpus>.<kind>.j<N>[.<i>]; j1 is the reference. check-before (default
# --jobs) is one more run of check-json, diff-sliced one more of diff.
JOBS_KINDS = {"check-text": None, "check-json": "check-before", "diff": "diff-sliced"}
JOBS = (1, 2, 8)
FCODES = ("F821", "F811", "F823", "F841")  # may not rise in any file
FALL_CODES = ("ASYNC251", "RUF006")  # must fall, each on its own, in every package that has one
TIMEOUT_RC = 124  # coreutils `timeout`
# Tolerance of the expected table for the standard library when the interpreter is not the one
# the table was made with (wheels are always exact): |got - expected| <= max(ABS, REL * expected),
# and an expected non-zero stays non-zero.
OTHER_PYTHON_REL, OTHER_PYTHON_ABS = 0.25, 2


def claimed_codes():
    """Ruff codes that some transform claims (`ruff = [...]` in transforms/*.toml)."""
    codes = set()
    folder = os.path.join(ROOT, "transforms")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".toml"):
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            m = re.search(r"^ruff\s*=\s*\[([^\]]*)\]", text, re.M)
            if m:
                codes.update(re.findall(r'"([A-Z]+[0-9]+)"', m.group(1)))
    return codes


def ruff_codes():
    return sorted(claimed_codes() | set(FALL_CODES)) + list(FCODES)


# ---------------------------------------------------------------------------------------------
# files


def walk(root):
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            if os.path.isfile(p) and not os.path.islink(p):
                yield os.path.relpath(p, root)


def compiles(path):
    # Same as `python -m py_compile`: compile(source_bytes, path, "exec", dont_inherit=True),
    # without writing a .pyc into the tree. Warnings (SyntaxWarning, ...) are not failures.
    try:
        with open(path, "rb") as f:
            data = f.read()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", dont_inherit=True)
        return True, ""
    except (SyntaxError, ValueError, UnicodeDecodeError, OverflowError, MemoryError, RecursionError) as e:
        return False, f"{type(e).__name__}: {e}"


def is_utf8(path):
    try:
        with open(path, "rb") as f:
            f.read().decode("utf-8")
        return True
    except (OSError, UnicodeDecodeError):
        return False


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(root, out, with_compile):
    snap = {}
    for rel in walk(root):
        p = os.path.join(root, rel)
        entry = {"sha": sha(p)}
        if with_compile and rel.endswith(".py"):
            ok, err = compiles(p)
            entry["ok"] = ok
            if not ok:
                entry["err"] = err
        snap[rel] = entry
    with open(out, "w") as f:
        json.dump(snap, f, indent=0, sort_keys=True)


def load(p):
    with open(p) as f:
        return json.load(f)


def pkg_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == "stdlib" and len(parts) > 2 and parts[1] == "site-packages":
        return "stdlib/site-packages"
    return parts[0]


def corpus_of(pkg):
    return "stdlib" if pkg.split("/")[0] == "stdlib" else "wheels"


def changed_files(work):
    before = load(f"{work}/snap_before.json")
    after = load(f"{work}/snap_after1.json")
    return sorted(r for r in after if r in before and after[r]["sha"] != before[r]["sha"])


def keep_changed(work):
    for rel in changed_files(work):
        dst = os.path.join(work, "after1", rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(work, "src", rel), dst)


# ---------------------------------------------------------------------------------------------
# ruff

RUFF_LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) ")
RUFF_FOUND = re.compile(r"^Found (\d+) errors?\.", re.M)


def ruff(ruff_bin, root, out):
    codes = ruff_codes()
    # exclude=[] and respect-gitignore=false: lint every file, also under site-packages/, build/,
    # ... (Ruff's default excludes), since asyncmod runs with --no-default-excludes on the stdlib.
    proc = subprocess.run(
        [ruff_bin, "check", "--isolated", "--no-cache", "--exit-zero", "--target-version", "py311",
         "--config", "exclude = []", "--config", "respect-gitignore = false",
         "--select", ",".join(codes), "--output-format", "concise", "."],
        capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"ruff failed with exit code {proc.returncode}")
    per = Counter()  # (relpath, code) -> n
    lines = []
    for line in proc.stdout.splitlines():
        m = RUFF_LINE.match(line)
        if not m:
            continue
        rel = os.path.normpath(m["path"])
        per[(rel, m["code"])] += 1
        lines.append(f"{rel}:{m['row']}:{m['col']}: {line[m.start('code'):]}")
    # Every finding Ruff counted must have been read: a changed output format must not make
    # every Ruff check pass at zero.
    found = RUFF_FOUND.search(proc.stdout)
    if found is None and "All checks passed!" not in proc.stdout:
        sys.exit(f"ruff: no `Found N errors.` or `All checks passed!` line in its output:\n{proc.stdout[-2000:]}")
    told = int(found.group(1)) if found else 0
    if told != len(lines):
        sys.exit(f"ruff says it found {told} findings, {len(lines)} lines were read (output format changed?)")
    with open(out, "w") as f:
        json.dump({"codes": codes, "counts": [[p, c, n] for (p, c), n in sorted(per.items())], "lines": lines},
                  f, indent=0)


def ruff_counts(path):
    return Counter({(p, c): n for p, c, n in load(path)["counts"]})


# ---------------------------------------------------------------------------------------------
# asyncmod output


class Run:
    """One asyncmod invocation: rc, seconds, stdout, stderr."""

    def __init__(self, work, corpus, step):
        base = f"{work}/runs/{corpus}.{step}"
        self.corpus, self.step, self.exists = corpus, step, os.path.exists(base + ".rc")
        self.name = f"{corpus}: asyncmod {step}"
        read = lambda ext: open(base + ext, encoding="utf-8", errors="replace").read() if self.exists else ""
        self.rc = int(read(".rc").strip() or -1) if self.exists else None
        self.seconds = float(read(".sec").strip() or "nan") if self.exists else None
        self.out, self.err = read(".out"), read(".err")
        self.kind = kind_of(step)


def kind_of(step):
    if step in ("check-before", "check-whole", "check-after") or step.startswith("check-json."):
        return "check-json"
    if step.startswith("check-text."):
        return "check-text"
    if step.startswith("diff"):
        return "diff"
    if step.startswith("fix"):
        return "fix"
    return "?"


def run_steps(work, corpus):
    """Every step of CORPUS that has a .rc file in runs/, in a stable order."""
    names = [f[len(corpus) + 1:-3] for f in os.listdir(f"{work}/runs") if f.startswith(corpus + ".") and f.endswith(".rc")]
    order = {s: i for i, s in enumerate(STEPS)}
    return sorted(names, key=lambda s: (order.get(s, len(order)), s))


SUMMARY = re.compile(
    r"^(?P<verb>Fixed|Would fix) (?P<n>\d+) findings? in (?P<files>\d+) files? \((?P<checked>\d+) checked"
    r"(?:; (?P<by>[^)]*))?\)\.(?: (?P<left>\d+) findings? left\b)?")
TEXT_LINE = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<id>[a-z0-9-]+) .*? "
                       r"\[(?P<status>(?:fix refused|no fix|fix): .*)\]$")


def parse_fix_summary(stderr):
    """{applied: {transform: n}, total, files, checked, left} from the `Fixed N findings in M files
    (K checked; id: n, ...). L findings left ...` line (`Would fix` for diff); None if the line is
    missing or has an unknown shape."""
    for line in reversed(stderr.splitlines()):
        m = SUMMARY.match(line)
        if m:
            by = {}
            for part in filter(None, (m["by"] or "").split(", ")):
                t, _, n = part.rpartition(": ")
                if not t or not n.isdigit():
                    return None
                by[t] = int(n)
            if sum(by.values()) != int(m["n"]):
                return None
            return {"applied": by, "total": int(m["n"]), "files": int(m["files"]), "checked": int(m["checked"]),
                    "left": int(m["left"] or 0)}
    return None


def parse_check_json(run, src):
    """Findings and errors of `asyncmod check --format json`, or None if it is not that JSON.

    Schema: {"findings": [{"path", "transform", "start": {"line"}, "message", "fix": {"safety",
    "applicable", "edits": [{"start_byte", "end_byte"}]} | null, "no_fix_reason": str | null}],
    "errors": [{"path", "message"}]}."""
    try:
        data = json.loads(run.out)
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise ValueError
    except ValueError:
        return None
    rel = lambda p: os.path.relpath(os.path.abspath(p), os.path.abspath(src))
    findings = []
    for d in data["findings"]:
        fix = d.get("fix")
        findings.append({
            "rel": rel(d.get("path", "?")),
            "where": f"{rel(d.get('path', '?'))}:{(d.get('start') or {}).get('line', '?')}",
            "transform": d.get("transform", "?"),
            "message": d.get("message", ""),
            "fix": fix,
            "fixable": bool(fix and fix.get("applicable")),
            "edits": [(e.get("start_byte", -1), e.get("end_byte", -1)) for e in (fix or {}).get("edits", [])],
            "reason": d.get("no_fix_reason"),
        })
    errors = [(rel(e.get("path", "?")), e.get("message", "")) for e in data.get("errors", [])]
    return {"findings": findings, "errors": errors}


def stderr_errors(run, src):
    """(relpath or None, line) for every `error: PATH: message` line on stderr."""
    out = []
    for line in run.err.splitlines():
        if not line.startswith("error: "):
            continue
        rest, path = line[len("error: "):], None
        i = rest.find(": ")
        while i != -1:
            if os.path.exists(rest[:i]):
                path = os.path.relpath(os.path.abspath(rest[:i]), os.path.abspath(src))
            i = rest.find(": ", i + 1)
        out.append((path, line))
    return out


def overlapped(findings):
    """Per transform, the fixable findings whose fix overlaps the fix of an earlier fixable finding
    in the same file (the engine's non_overlapping rule): the first pass of `fix` leaves them out,
    and the earlier fix may take them with it (a `with open` block moved into a thread takes the
    `json.load(f)` inside), so each may be fixed without being counted as applied."""
    out, taken = Counter(), defaultdict(list)
    hit = lambda a, b: a[0] < b[1] and b[0] < a[1] or a[0] == b[0]
    for f in findings:
        if not f["fixable"]:
            continue
        if any(hit(e, t) for e in f["edits"] for t in taken[f["rel"]]):
            out[f["transform"]] += 1
        else:
            taken[f["rel"]].extend(f["edits"])
    return out


# ---------------------------------------------------------------------------------------------
# comparing outputs


def shorten(s, n=160):
    return s if len(s) <= n else s[: n - 3] + "..."


def first_difference(a, b):
    """(line number, line of a, line of b) of the first line where a and b differ."""
    la, lb = a.split("\n"), b.split("\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return i + 1, x, y
    i = min(len(la), len(lb))
    return i + 1, la[i] if i < len(la) else "<end of output>", lb[i] if i < len(lb) else "<end of output>"


def differs(label, a_name, a, b_name, b, tree=None):
    """A violation naming the first differing line (without TREE's path), or None if a == b."""
    if a == b:
        return None
    n, x, y = first_difference(a, b)
    if tree:
        x, y = (l.replace(tree + os.sep, "") for l in (x, y))
    return (f"{label}: {a_name} and {b_name} differ, first at line {n}: {a_name}: {shorten(x, 100)!r} / "
            f"{b_name}: {shorten(y, 100)!r}")


def runs_differ(label, ref, other, tree):
    for stream in ("out", "err"):
        v = differs(f"{label} ({'stdout' if stream == 'out' else 'stderr'})", ref.step, getattr(ref, stream),
                    other.step, getattr(other, stream), tree)
        if v:
            return f"{ref.corpus}: {v}"
    return None


HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def split_lines(text):
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def parse_unified(text):
    """{path as printed after `+++ b/`: [(old_start, old_len, [(tag, line with its newline)])]}."""
    files, hunks = {}, None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            path = lines[i + 1][4:]
            hunks = files.setdefault(path[2:] if path.startswith("b/") else path, [])
            i += 2
            continue
        m = HUNK.match(line)
        if not m or hunks is None:
            raise ValueError(f"line {i + 1} of the diff is neither a file header nor a hunk: {shorten(line)!r}")
        old_len = int(m[2]) if m[2] is not None else 1
        new_len = int(m[4]) if m[4] is not None else 1
        body, o, n = [], 0, 0
        i += 1
        while i < len(lines) and (o < old_len or n < new_len or lines[i].startswith("\\")):
            l = lines[i]
            tag, text = (l[:1], l[1:]) if l else (" ", "")
            if tag == "\\":
                if body:
                    body[-1] = (body[-1][0], body[-1][1][:-1])
            elif tag in " -+":
                body.append((tag, text + "\n"))
                o += tag != "+"
                n += tag != "-"
            else:
                raise ValueError(f"line {i + 1} of the diff: unexpected {shorten(l)!r} in a hunk")
            i += 1
        hunks.append((int(m[1]), old_len, body))
    return files


def apply_unified(old_text, hunks):
    old, out, pos = split_lines(old_text), [], 0
    for old_start, old_len, body in hunks:
        start = old_start - 1 if old_len else old_start
        if start < pos:
            raise ValueError(f"hunk at line {old_start} overlaps the previous one")
        out.extend(old[pos:start])
        pos = start
        for tag, text in body:
            if tag != "+":
                if pos >= len(old) or old[pos] != text:
                    raise ValueError(f"hunk at line {old_start}: line {pos + 1} of the original is "
                                     f"{shorten(old[pos]) if pos < len(old) else '<end>'!r}, the diff says {shorten(text)!r}")
                pos += 1
            if tag != "-":
                out.append(text)
    out.extend(old[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# the expected table (scripts/realcode_expected.txt)

# kind -> (number of key columns, value columns)
TABLE = {
    "files": (1, ("py", "compiled", "changed")),               # package
    "findings": (2, ("before", "fixable", "left")),            # package, transform
    "applied": (2, ("n",)),                                    # corpus, transform (fix summary)
    "summary": (1, ("checked", "files", "fixed", "left")),     # corpus (fix summary)
    "ruff": (2, ("before", "after")),                          # package, code
}
TABLE_HEADER = """\
# What scripts/realcode.sh must find on its pinned corpus (asserted by scripts/realcode_helper.py).
# Written by `scripts/realcode.sh --update-expected`: after a deliberate change of behaviour, rerun
# it and commit this file with the change (its diff is the change's effect on real code).
# A row that is not here is expected to be all zeros.
#
# Tolerance: exact. The wheels and Ruff are pinned and asyncmod's output does not depend on timing,
# so any difference is a change of behaviour that someone must look at. The standard-library rows
# (package or corpus `stdlib`) depend on the interpreter: with the Python version below they are
# exact too; with another one each value may differ by max(2, 25%) and a non-zero one must stay
# non-zero; with --stdlib (the whole library) they are not compared.
#
# files     PACKAGE                .py compiled changed   (.py files; of those, compiling; changed by fix)
# findings  PACKAGE TRANSFORM      before fixable left    (`check --unsafe-fixes` before the fix; of
#                                                          those with an applicable fix; `check` after)
# applied   CORPUS TRANSFORM       n                      (`fix` summary: fixes applied)
# summary   CORPUS                 checked files fixed left (`fix` summary line)
# ruff      PACKAGE CODE           before after           (Ruff findings before and after the fix)
"""


def table_rows(rows):
    kinds = list(TABLE)
    return sorted(rows, key=lambda k: (kinds.index(k[0]), k[1:]))


def read_expected(path):
    rows, python = {}, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "python" and len(words) == 2:
                python = words[1]
                continue
            nkeys, cols = TABLE.get(words[0], (None, ()))
            if nkeys is None or len(words) != 1 + nkeys + len(cols) or not all(w.isdigit() for w in words[1 + nkeys:]):
                sys.exit(f"{path}:{n}: not a row of the expected table: {line.rstrip()}")
            rows[tuple(words[: 1 + nkeys])] = tuple(int(w) for w in words[1 + nkeys:])
    if python is None:
        sys.exit(f"{path}: no `python X.Y.Z` line")
    return rows, python


def write_expected(path, actual, python):
    keys = [k for k in table_rows(actual) if any(actual[k])]
    kw = [max(len(k[i]) for k in keys if len(k) > i) for i in range(3)]  # key columns, all kinds
    with open(path, "w", encoding="utf-8") as f:
        f.write(TABLE_HEADER)
        f.write(f"python {python}\n")
        for kind in TABLE:
            rows = [k for k in keys if k[0] == kind]
            vw = [max(len(str(actual[k][i])) for k in rows) for i in range(len(TABLE[kind][1]))] if rows else []
            for k in rows:
                cells = [c.ljust(kw[i]) for i, c in enumerate(k)] + [" " * kw[i] for i in range(len(k), 3)]
                cells += [str(v).rjust(max(vw[i], len(TABLE[kind][1][i]))) for i, v in enumerate(actual[k])]
                f.write("  ".join(cells).rstrip() + "\n")


def compare_expected(actual, expected, exp_python, python, full_stdlib):
    """(violations, notes): every value of the table against this run."""
    violations, notes = [], []
    other_python = exp_python != python
    tolerated = []
    for key in table_rows(set(actual) | set(expected)):
        cols = TABLE[key[0]][1]
        zero = (0,) * len(cols)
        got, want = actual.get(key, zero), expected.get(key, zero)
        stdlib = key[1].split("/")[0] == "stdlib"
        if stdlib and full_stdlib:
            continue
        for col, w, g in zip(cols, want, got):
            if stdlib and other_python:
                ok = abs(g - w) <= max(OTHER_PYTHON_ABS, math.ceil(OTHER_PYTHON_REL * w)) and (w == 0 or g > 0)
                if ok and g != w:
                    tolerated.append(f"{' '.join(key)} {col} {w} -> {g}")
            else:
                ok = g == w
            if not ok:
                violations.append(f"expected table: {' '.join(key)}: {col} should be {w}, is {g}")
    if full_stdlib:
        notes.append("expected table: stdlib rows not compared (--stdlib runs the whole library)")
    elif other_python:
        notes.append(f"expected table: made with Python {exp_python}, this is {python}: stdlib rows compared "
                     f"within max({OTHER_PYTHON_ABS}, {OTHER_PYTHON_REL:.0%}); differences within it: "
                     + ("; ".join(tolerated) or "none"))
    if violations:
        violations.append("expected table: if the change is deliberate, rerun with --update-expected and commit "
                          "scripts/realcode_expected.txt with it")
    return violations, notes


# ---------------------------------------------------------------------------------------------
# tables


def table(hdr, rows, sep_before_last=False, left=(0,)):
    """Plain-text table: the columns in `left` left-aligned, the rest right-aligned."""
    cells = [[str(c) for c in r] for r in [hdr] + rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(hdr))]
    fmt = lambda r: "  ".join(c.ljust(w[i]) if i in left else c.rjust(w[i]) for i, c in enumerate(r)).rstrip()
    rule = "  ".join("-" * x for x in w)
    out = [fmt(cells[0]), rule]
    for i, r in enumerate(cells[1:]):
        if sep_before_last and i == len(cells) - 2:
            out.append(rule)
        out.append(fmt(r))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# report


def report(work, update_expected=False):
    src, orig, after1, fixj1 = f"{work}/src", f"{work}/orig", f"{work}/after1", f"{work}/fixj1"
    meta = load(f"{work}/corpora.json")
    corpora, python, full_stdlib = meta["corpora"], meta["python"], meta["full_stdlib"]
    before = load(f"{work}/snap_before.json")
    after = load(f"{work}/snap_after1.json")
    after2 = load(f"{work}/snap_after2.json")
    after_j1 = load(f"{work}/snap_fixj1.json")
    rb, ra = ruff_counts(f"{work}/ruff_before.json"), ruff_counts(f"{work}/ruff_after.json")
    codes = load(f"{work}/ruff_before.json")["codes"]
    violations, notes = [], []
    packages = []
    for corpus, pkgs in corpora.items():
        for p in pkgs:
            packages.append(p)
            if p == "stdlib" and os.path.isdir(f"{orig}/stdlib/site-packages"):
                packages.append("stdlib/site-packages")

    # --- file-level checks -----------------------------------------------------------------
    changed = changed_files(work)
    for r in sorted(set(after) - set(before)):
        violations.append(f"file created by fix: {r}")
    for r in sorted(set(before) - set(after)):
        violations.append(f"file deleted by fix: {r}")
    broken, changed_uncompilable = [], []
    for r in changed:
        if not r.endswith(".py"):
            violations.append(f"non-Python file changed: {r}")
            continue
        ok_after, err = compiles(os.path.join(after1, r))
        if before[r].get("ok") and not ok_after:
            broken.append(r)
            violations.append(f"BROKEN (compiled before, not after): {r}: {err}")
        elif not before[r].get("ok"):
            changed_uncompilable.append(r)
    not_idem = sorted(r for r in set(after) | set(after2)
                      if after.get(r, {}).get("sha") != after2.get(r, {}).get("sha"))
    for r in not_idem:
        violations.append(f"second fix changed: {r}")

    # `fix --jobs 1` on a copy (fixj1/) must end as `fix --jobs 8` did (src/ after the first fix).
    read_text = lambda p: open(p, encoding="utf-8", errors="replace").read()
    j_diff = sorted(r for r in set(after) | set(after_j1) if after.get(r, {}).get("sha") != after_j1.get(r, {}).get("sha"))
    for r in j_diff[:10]:
        a_path = os.path.join(after1 if r in changed else orig, r)
        if r not in after_j1 or not os.path.exists(a_path):
            violations.append(f"fix --jobs 1 and fix --jobs 8 give different trees: {r} exists in one only")
            continue
        v = differs(f"fix --jobs 1 and fix --jobs 8 give different trees: {r}", "jobs 8", read_text(a_path),
                    "jobs 1", read_text(os.path.join(fixj1, r)))
        violations.append(v)
    if len(j_diff) > 10:
        violations.append(f"fix --jobs 1 and fix --jobs 8: {len(j_diff) - 10} more files differ")

    # --- asyncmod runs: exit codes, timeouts, panics, errors -------------------------------
    runs = {(c, s): Run(work, c, s) for c in corpora for s in run_steps(work, c)}
    for c in corpora:
        for s in STEPS + tuple(f"{k}.j{j}" + ("" if j == 1 else ".1") for k in JOBS_KINDS for j in JOBS):
            if (c, s) not in runs:
                violations.append(f"{c}: asyncmod {s}: did not run")

    def bad_input(rel):
        """A file asyncmod may refuse to read: not UTF-8, or Python itself cannot compile it."""
        if rel is None or rel not in before:
            return False
        return not is_utf8(os.path.join(orig, rel)) or not before[rel].get("ok", True)

    checks = {}
    for (corpus, step), run in runs.items():
        name = run.name
        for line in run.err.splitlines():
            if "panicked" in line:
                violations.append(f"{name}: PANIC: {line.strip()}")
        if run.rc == TIMEOUT_RC:
            violations.append(f"{name}: TIMEOUT (killed by `timeout`)")
            continue
        errs = stderr_errors(run, fixj1 if step == "fix-j1" else src)
        if run.kind == "check-json":
            parsed = parse_check_json(run, src)
            if parsed is None:
                violations.append(f"{name}: stdout is not `--format json` output (exit {run.rc})")
                continue
            checks[(corpus, step)] = parsed
            errs = [(p, f"{p}: {m}") for p, m in parsed["errors"]] + [e for e in errs if e[0] is None]
        ok_rcs = (0,) if run.kind == "fix" else (0, 1)
        unexpected = [line for path, line in errs if not bad_input(path)]
        for line in unexpected:
            violations.append(f"{name}: error on a file Python compiles: {line}")
        if run.rc not in ok_rcs and not (run.rc == 2 and errs and not unexpected):
            violations.append(f"{name}: exited {run.rc}")

    # --- same output: sliced and whole-file parsing; 1, 2 and 8 workers ------------------------
    for corpus in corpora:
        for a, b in (("check-before", "check-whole"), ("diff-sliced", "diff-whole")):
            if (corpus, a) in runs and (corpus, b) in runs:
                v = runs_differ("sliced and whole-file parsing", runs[(corpus, a)], runs[(corpus, b)], src)
                if v:
                    violations.append(v)
        for kind, default_run in JOBS_KINDS.items():
            ref = runs.get((corpus, f"{kind}.j1"))
            if ref is None:
                continue
            others = [s for c, s in runs if c == corpus and s.startswith(kind + ".j") and s != ref.step]
            for s in others + ([default_run] if default_run and (corpus, default_run) in runs else []):
                v = runs_differ("output depends on --jobs", ref, runs[(corpus, s)], src)
                if v:
                    violations.append(v)

        f8, f1 = runs.get((corpus, "fix1")), runs.get((corpus, "fix-j1"))
        if f8 and f1:  # the same report, once the tree's path is taken out
            for stream in ("out", "err"):
                v = differs(f"{corpus}: output depends on --jobs ({'stdout' if stream == 'out' else 'stderr'})",
                            "fix1 (--jobs 8)", getattr(f8, stream).replace(src + os.sep, "<tree>/"),
                            "fix-j1", getattr(f1, stream).replace(fixj1 + os.sep, "<tree>/"))
                if v:
                    violations.append(v)
                    break

    # --- findings after the fix: nothing fixable may be left ---------------------------------
    for corpus in corpora:
        for f in checks.get((corpus, "check-after"), {}).get("findings", []):
            if f["fix"] is not None:
                violations.append(f"still fixable after fix: {f['where']}: {f['transform']} (fix {f['fix'].get('safety')}, "
                                  f"applicable={f['fix'].get('applicable')})")
        for step in ("fix1", "fix-j1"):
            for line in runs[(corpus, step)].out.splitlines() if (corpus, step) in runs else []:
                m = TEXT_LINE.match(line)
                if m and m["status"].startswith("fix refused"):
                    violations.append(f"fix refused (asyncmod bug) in {step}: {m['path']}:{m['line']}: "
                                      f"{m['id']}: {m['status']}")

    # --- the fix summary against the findings, diff against fix ---------------------------------
    # The summary counts fixes applied, not findings that went away: one fix can take another
    # finding with it (overlapping fixes; `overlapped`), and a fix can make a new finding (an
    # `await asyncio.to_thread(...)` in a loop is a loop-awaits finding). So what is compared is
    # what must be equal: diff's summary and fix's; what fix says is left, what it lists and what
    # `check` finds after it; the files it says it changed and those that changed; and per
    # transform, applied >= fixable before - overlapped.
    summaries, diff_files = {}, {}
    per_transform = {}
    for corpus in corpora:
        cb = checks.get((corpus, "check-before"), {}).get("findings", [])
        ca = checks.get((corpus, "check-after"), {}).get("findings", [])
        fix1, dif = runs.get((corpus, "fix1")), runs.get((corpus, "diff-sliced"))
        summ = summaries[corpus] = parse_fix_summary(fix1.err) if fix1 else None
        dsumm = parse_fix_summary(dif.err) if dif else None
        if summ is None:
            violations.append(f"{corpus}: no `Fixed N findings in M files (K checked; ...)` line from fix1 on stderr")
            summ = {"applied": {}, "total": 0, "files": 0, "checked": 0, "left": 0}
        if dsumm is None:
            violations.append(f"{corpus}: no `Would fix N findings in M files (K checked; ...)` line from diff on stderr")
        elif dsumm != summ:
            flat = lambda s: {**{k: v for k, v in s.items() if k != "applied"},
                              **{f"applied {t}": n for t, n in s["applied"].items()}}
            d, f = flat(dsumm), flat(summ)
            violations.append(f"{corpus}: diff and fix summaries disagree: " + "; ".join(
                f"{k}: diff {d.get(k, 0)}, fix {f.get(k, 0)}" for k in sorted(set(d) | set(f)) if d.get(k) != f.get(k)))
        left_lines = [l for l in fix1.out.splitlines()] if fix1 else []
        bad = [l for l in left_lines if not TEXT_LINE.match(l)]
        if bad:
            violations.append(f"{corpus}: fix printed a line that is not a finding: {shorten(bad[0])!r}")
        left_by = Counter(TEXT_LINE.match(l)["id"] for l in left_lines if TEXT_LINE.match(l))
        after_by = Counter(f["transform"] for f in ca)
        if not (summ["left"] == len(left_lines) == len(ca)):
            violations.append(f"{corpus}: fix says {summ['left']} findings left, lists {len(left_lines)}, "
                              f"check after it finds {len(ca)}")
        elif left_by != after_by:
            violations.append(f"{corpus}: findings fix lists as left and findings check finds after it differ "
                              f"by transform: {dict(left_by)} vs {dict(after_by)}")
        n_changed = sum(1 for r in changed if corpus_of(pkg_of(r)) == corpus)
        if summ["files"] != n_changed:
            violations.append(f"{corpus}: fix says it changed {summ['files']} files, {n_changed} changed")
        fixable = Counter(f["transform"] for f in cb if f["fixable"])
        over = overlapped(cb)
        for t in sorted(set(fixable) | set(summ["applied"])):
            if summ["applied"].get(t, 0) < fixable[t] - over[t]:
                violations.append(f"{corpus}/{t}: fix says {summ['applied'].get(t, 0)} applied; {fixable[t]} findings "
                                  f"had a fix, {over[t]} of them overlapping another")
        # Findings after the fix that were not there before (same file, transform, message and
        # reason): made by a fix. They must be report-only (checked above).
        key = lambda f: (f["rel"], f["transform"], f["message"], f["reason"])
        new = Counter(map(key, ca)) - Counter(map(key, cb))
        per_transform[corpus] = dict(before=Counter(f["transform"] for f in cb), fixable=fixable, over=over,
                                     left=after_by, new=Counter(k[1] for k in new.elements()))

        # diff: exit 1 and a non-empty diff where there are fixes (0 and nothing where there are
        # none); what it shows, applied to the original, is what fix wrote.
        for step in [s for c, s in runs if c == corpus and runs[(c, s)].kind == "diff"]:
            run = runs[(corpus, step)]
            if fixable and (run.rc != 1 or not run.out.strip()):
                violations.append(f"{run.name}: {sum(fixable.values())} findings have a fix, but diff exited {run.rc} "
                                  f"with {len(run.out)} bytes of output")
            if not fixable and (run.rc != 0 or run.out.strip()):
                violations.append(f"{run.name}: no finding has a fix, but diff exited {run.rc} with {len(run.out)} bytes")
        if dif is None:
            continue
        try:
            shown = parse_unified(dif.out)
        except ValueError as e:
            violations.append(f"{dif.name}: not a unified diff: {e}")
            continue
        rels = {}
        for p, hunks in shown.items():
            rels[os.path.relpath("/" + p if not os.path.isabs(p) else p, src)] = hunks
        diff_files[corpus] = len(rels)
        expect = {r for r in changed if corpus_of(pkg_of(r)) == corpus}
        for r in sorted(expect - set(rels))[:10]:
            violations.append(f"{dif.name}: fix changed {r}, diff does not show it")
        for r in sorted(set(rels) - expect)[:10]:
            violations.append(f"{dif.name}: shows a change to {r}, fix did not change it")
        for r in sorted(expect & set(rels)):
            try:
                shown_text = apply_unified(read_text(os.path.join(orig, r)), rels[r])
            except ValueError as e:
                violations.append(f"{dif.name}: its diff of {r} does not apply to the original: {e}")
                continue
            v = differs(f"{dif.name}: {r}", "diff applied", shown_text, "fix wrote", read_text(os.path.join(after1, r)))
            if v:
                violations.append(v)

    # --- ruff: each code on its own ---------------------------------------------------------------
    for key in sorted(set(rb) | set(ra)):
        p, c = key
        if c in FCODES and ra[key] > rb[key]:
            violations.append(f"ruff {c} increased in {p}: {rb[key]} -> {ra[key]}")

    def tot(cnt, pkg, code):
        return sum(n for (p, c), n in cnt.items() if pkg_of(p) == pkg and c == code)

    for code in codes:
        b_all, a_all = sum(n for (p, c), n in rb.items() if c == code), sum(n for (p, c), n in ra.items() if c == code)
        for pkg in packages:
            b, a = tot(rb, pkg, code), tot(ra, pkg, code)
            if a > b:
                violations.append(f"ruff {code} increased in {pkg}: {b} -> {a}")
            elif code in FALL_CODES and b > 0 and a >= b:
                violations.append(f"ruff {code} did not fall in {pkg}: {b} -> {a}")
        if code in FALL_CODES:
            if b_all == 0:
                violations.append(f"ruff {code}: no finding in the corpus before the fix, so its fall cannot be checked")
            elif a_all >= b_all:
                violations.append(f"ruff {code} did not fall overall: {b_all} -> {a_all}")

    # --- the expected table -----------------------------------------------------------------------
    actual = {}
    for pkg in packages:
        pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
        actual[("files", pkg)] = (len(pyfiles), sum(1 for r in pyfiles if before[r].get("ok")),
                                  sum(1 for r in changed if pkg_of(r) == pkg))
        for code in codes:
            actual[("ruff", pkg, code)] = (tot(rb, pkg, code), tot(ra, pkg, code))
    for corpus in corpora:
        cb = checks.get((corpus, "check-before"), {}).get("findings", [])
        ca = checks.get((corpus, "check-after"), {}).get("findings", [])
        for f in cb + ca:
            actual.setdefault(("findings", pkg_of(f["rel"]), f["transform"]), (0, 0, 0))
        for f in cb:
            k = ("findings", pkg_of(f["rel"]), f["transform"])
            b, x, l = actual[k]
            actual[k] = (b + 1, x + f["fixable"], l)
        for f in ca:
            k = ("findings", pkg_of(f["rel"]), f["transform"])
            b, x, l = actual[k]
            actual[k] = (b, x, l + 1)
        s = summaries[corpus]
        for t, n in s["applied"].items():
            actual[("applied", corpus, t)] = (n,)
        actual[("summary", corpus)] = (s["checked"], s["files"], s["total"], s["left"])
    if update_expected:
        if full_stdlib:
            violations.append("--update-expected needs the default run (the stdlib subset), not --stdlib")
        else:
            write_expected(EXPECTED, actual, python)
            notes.append(f"wrote {os.path.relpath(EXPECTED, ROOT)} from this run (not compared)")
    elif not os.path.exists(EXPECTED):
        violations.append(f"no expected table {EXPECTED}: run with --update-expected")
    else:
        expected, exp_python = read_expected(EXPECTED)
        v, n = compare_expected(actual, expected, exp_python, python, full_stdlib)
        violations += v
        notes += n

    # --- table 1: per package -----------------------------------------------------------------
    others = [c for c in codes if c not in FALL_CODES and c not in FCODES]
    rows, T = [], Counter()
    for pkg in packages:
        pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
        v = dict(
            py=len(pyfiles), ok=sum(1 for r in pyfiles if before[r].get("ok")),
            ch=sum(1 for r in changed if pkg_of(r) == pkg), br=sum(1 for r in broken if pkg_of(r) == pkg),
            ni=sum(1 for r in not_idem if pkg_of(r) == pkg),
            ab=tot(rb, pkg, "ASYNC251"), aa=tot(ra, pkg, "ASYNC251"),
            rb=tot(rb, pkg, "RUF006"), ra=tot(ra, pkg, "RUF006"),
            ob=sum(tot(rb, pkg, c) for c in others), oa=sum(tot(ra, pkg, c) for c in others),
            fb=sum(tot(rb, pkg, c) for c in FCODES), fa=sum(tot(ra, pkg, c) for c in FCODES))
        T.update(v)
        rows.append([pkg, v["py"], v["ok"], v["ch"], v["br"], v["ni"],
                     f"{v['ab']}->{v['aa']}", f"{v['rb']}->{v['ra']}", f"{v['ob']}->{v['oa']}", f"{v['fb']}->{v['fa']}"])
    rows.append(["TOTAL", T["py"], T["ok"], T["ch"], T["br"], T["ni"],
                 f"{T['ab']}->{T['aa']}", f"{T['rb']}->{T['ra']}", f"{T['ob']}->{T['oa']}", f"{T['fb']}->{T['fa']}"])
    print("\nFiles and Ruff, per package")
    print(table(["package", ".py", "compiled", "changed", "broken", "!idem", "ASYNC251", "RUF006", "ASYNC2xx", "F8xx"],
                rows, sep_before_last=True))
    print("compiled = .py files that compiled before; changed = files the first fix changed; broken = changed")
    print("files that compiled before and not after; !idem = files the second fix changed; Ruff columns are")
    print(f"before->after (ASYNC2xx = {'+'.join(others)}; F8xx = {'+'.join(FCODES)}; each code is checked on its own).")

    rows = []
    for code in codes:
        b, a = sum(n for (p, c), n in rb.items() if c == code), sum(n for (p, c), n in ra.items() if c == code)
        rule = ("must fall in every package that has one" if code in FALL_CODES else
                "may not rise in any file" if code in FCODES else "may not rise in any package")
        rows.append([code, b, a, rule])
    print("\nRuff, per code (all packages)")
    print(table(["code", "before", "after", "rule (and exact per package: the expected table)"], rows, left=(0, 3)))

    # --- table 2: per transform ---------------------------------------------------------------
    rows, totals = [], defaultdict(Counter)
    for corpus in corpora:
        pt, summ = per_transform[corpus], summaries[corpus]
        for t in sorted(set(pt["before"]) | set(pt["left"]) | set(summ["applied"])):
            c = dict(before=pt["before"][t], fixable=pt["fixable"][t], applied=summ["applied"].get(t, 0),
                     over=pt["over"][t], new=pt["new"][t], left=pt["left"][t])
            rows.append([corpus, t] + list(c.values()))
            totals[t].update(c)
    all_t = Counter()
    for t in sorted(totals):
        all_t.update(totals[t])
        rows.append(["all", t] + [totals[t][k] for k in ("before", "fixable", "applied", "over", "new", "left")])
    rows.append(["all", "TOTAL"] + [all_t[k] for k in ("before", "fixable", "applied", "over", "new", "left")])
    print("\nFindings per transform (asyncmod check/fix --unsafe-fixes)")
    print(table(["corpus", "transform", "before", "fixable", "applied", "overlapping", "new", "left"],
                rows, sep_before_last=True, left=(0, 1)))
    print("before = findings `check` reported before the fix; fixable = of those, with an applicable fix;")
    print("applied = fixes applied, per the `fix` summary line; overlapping = fixable findings whose fix")
    print("overlaps another's (one fix may take the other with it: applied >= fixable - overlapping);")
    print("new = findings after the fix that were not there before (made by a fix; report-only);")
    print("left = findings `check` reports after the fix (none may be fixable).")

    # --- table 3: findings left, by reason -----------------------------------------------------
    rows = []
    for corpus in corpora:
        reasons = Counter((f["transform"], f["reason"] or "(has a fix)")
                          for f in checks.get((corpus, "check-after"), {}).get("findings", []))
        for (t, reason), n in sorted(reasons.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
            rows.append([corpus, t, n, reason])
    print("\nFindings left after the fix, by no_fix_reason (`check --format json` after the fix)")
    if rows:
        print(table(["corpus", "transform", "n", "no_fix_reason"], rows, left=(0, 1, 3)))
    else:
        print("  (none)")

    # --- asyncmod runs ------------------------------------------------------------------------
    rows, jobs_seconds, jobs_n = [], 0.0, 0
    for (corpus, step), run in runs.items():
        extra = ""
        if step in ("fix1", "fix-j1") and parse_fix_summary(run.err):
            s = parse_fix_summary(run.err)
            extra = f"{s['checked']} checked, {s['files']} changed"
        if step == "diff-sliced" and corpus in diff_files:
            extra = f"{diff_files[corpus]} files in the diff"
        if ".j" in step:
            jobs_seconds += run.seconds
            jobs_n += 1
        nerr = len(checks.get((corpus, step), {}).get("errors", [])) if run.kind == "check-json" else len(
            stderr_errors(run, src))
        rows.append([corpus, step, run.rc, f"{run.seconds:.1f}", nerr, extra])
    print("\nasyncmod runs (each under `timeout`; exit 124 = timed out)")
    print(table(["corpus", "step", "exit", "seconds", "errors", ""], rows, left=(0, 1, 5)))
    print(f"--jobs comparison: {jobs_n} runs ({meta['jobs_runs']} of each kind with 2 and with 8 workers), "
          f"{jobs_seconds:.0f} s, and fix-j1")
    errs_seen = sorted({line for c in corpora if (c, "fix1") in runs for _, line in stderr_errors(runs[(c, "fix1")], src)})
    if errs_seen:
        print(f"errors reported by the first fix ({len(errs_seen)}; accepted when the file is not UTF-8 or "
              f"does not compile):")
        for line in errs_seen:
            print(f"  {line.replace(os.path.abspath(src) + os.sep, '')}")

    # --- details --------------------------------------------------------------------------------
    for corpus in corpora:
        s = summaries.get(corpus)
        npy = sum(1 for r in before if r.endswith(".py") and corpus_of(pkg_of(r)) == corpus)
        if s and corpus == "stdlib" and s["checked"] != npy:
            notes.append(f"stdlib: asyncmod checked {s['checked']} files, the copy has {npy} .py files")
    if changed_uncompilable:
        notes.append(f"{len(changed_uncompilable)} changed file(s) did not compile before either: "
                     + ", ".join(changed_uncompilable))

    def print_capped(title, lines, cap=60):
        if not lines:
            return
        print(f"\n{title} ({len(lines)}):")
        for l in lines[:cap]:
            print(f"  {l}")
        if len(lines) > cap:
            print(f"  ... and {len(lines) - cap} more")

    print_capped("findings left after the fix",
                 [f"{f['where']}: {f['transform']}: {f['reason']}" for c in corpora
                  for f in checks.get((c, "check-after"), {}).get("findings", [])])
    print_capped(f"ruff {'/'.join(FALL_CODES)} findings left after the fix",
                 [l for l in load(f"{work}/ruff_after.json")["lines"] if any(f" {c} " in l for c in FALL_CODES)])
    for n in notes:
        print(f"note: {n}")

    # --- diffs ------------------------------------------------------------------------------------
    def udiff(a_root, b_root, rel, a_label, b_label):
        read = lambda p: open(p, encoding="utf-8", errors="replace").read().splitlines(keepends=True)
        return "".join(difflib.unified_diff(read(os.path.join(a_root, rel)), read(os.path.join(b_root, rel)),
                                            f"{a_label}/{rel}", f"{b_label}/{rel}"))

    with open(f"{work}/fix.diff", "w") as f:
        for r in changed:
            f.write(udiff(orig, after1, r, "a", "b"))
    with open(f"{work}/changed.txt", "w") as f:
        f.write("".join(r + "\n" for r in changed))
    if broken:
        print("\ndiffs of files the fix broke (original -> after the first fix):")
        for r in broken:
            print(udiff(orig, after1, r, "orig", "after1"))
    if not_idem:
        print("\ndiffs of files the second fix changed (after the first fix -> after the second):")
        for r in not_idem:
            if os.path.exists(os.path.join(after1, r)):
                print(udiff(after1, src, r, "after1", "after2"))
            else:
                print(udiff(orig, src, r, "orig", "after2"))

    print(f"\nthe first fix changed {len(changed)} files (their diff: fix.diff in the work directory)")
    if violations:
        print(f"\nVIOLATIONS ({len(violations)}):")
        for v in violations:
            print(f"  - {v}")
        return 1
    print("\nOK: no violations")
    return 0


def baseline(work):
    corpora = load(f"{work}/corpora.json")["corpora"]
    rb = ruff_counts(f"{work}/ruff_before.json")
    codes = load(f"{work}/ruff_before.json")["codes"]
    before = load(f"{work}/snap_before.json")
    rows = []
    for pkgs in corpora.values():
        for pkg in pkgs + (["stdlib/site-packages"] if "stdlib" in pkgs and
                           os.path.isdir(f"{work}/orig/stdlib/site-packages") else []):
            pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
            g = lambda code: sum(n for (p, c), n in rb.items() if pkg_of(p) == pkg and c == code)
            rows.append([pkg, len(pyfiles), sum(1 for r in pyfiles if before[r].get("ok"))] + [g(c) for c in codes])
    print()
    print(table(["package", ".py", "compiled"] + codes, rows))
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "snapshot":
        snapshot(args[0], args[1], args[2] == "1")
    elif cmd == "ruff-codes":
        print(",".join(ruff_codes()))
    elif cmd == "ruff":
        ruff(*args)
    elif cmd == "keep-changed":
        keep_changed(args[0])
    elif cmd == "report":
        sys.exit(report(args[0], update_expected="--update-expected" in args[1:]))
    elif cmd == "baseline":
        sys.exit(baseline(args[0]))
    else:
        sys.exit(f"unknown helper command {cmd}")
