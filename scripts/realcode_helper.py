"""Helper for scripts/realcode.sh: snapshots, ruff, asyncmod output parsing, comparisons, tables.

Layout of the work directory (WORK):
  orig/<pkg>/...      pristine copy (for diffs and compile-before)
  src/<pkg>/...       what asyncmod rewrites
  after1/<pkg>/...    copies of the files the first fix changed (as they were after it)
  runs/<corpus>.<step>.{out,err,rc,sec}
                      one asyncmod invocation; steps: check-before, fix1, fix2, check-after
  corpora.json        {"wheels": [pkg, ...], "stdlib": ["stdlib"]}
Packages are the first path component under src/, except that src/stdlib/site-packages/ is its own
package "stdlib/site-packages" (third-party code, reported separately from the standard library).

Commands (all print to stdout; `report` exits 1 on a violation):
  snapshot ROOT OUT WITH_COMPILE   checksums of every file (+ compile status of every .py if 1)
  ruff RUFF ROOT OUT               ruff ASYNC251,RUF006,F821,F811,F823,F841 over ROOT
  keep-changed WORK                copy the files the first fix changed to after1/
  baseline WORK                    ruff-only table (--baseline-only)
  report WORK                      all checks and tables
"""
import difflib, hashlib, json, os, re, shutil, subprocess, sys, warnings
from collections import Counter, defaultdict

STEPS = ("check-before", "fix1", "fix2", "check-after")
FCODES = ("F821", "F811", "F823", "F841")
TIMEOUT_RC = 124  # coreutils `timeout`


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


def ruff(ruff_bin, root, out):
    codes = "ASYNC251,RUF006," + ",".join(FCODES)
    # exclude=[] and respect-gitignore=false: lint every file, also under site-packages/, build/,
    # ... (Ruff's default excludes), since asyncmod runs with --no-default-excludes on the stdlib.
    proc = subprocess.run(
        [ruff_bin, "check", "--isolated", "--no-cache", "--exit-zero", "--target-version", "py311",
         "--config", "exclude = []", "--config", "respect-gitignore = false",
         "--select", codes, "--output-format", "concise", "."],
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
    with open(out, "w") as f:
        json.dump({"counts": [[p, c, n] for (p, c), n in sorted(per.items())], "lines": lines}, f, indent=0)


def ruff_counts(path):
    return Counter({(p, c): n for p, c, n in load(path)["counts"]})


# ---------------------------------------------------------------------------------------------
# asyncmod output


class Run:
    """One asyncmod invocation: rc, seconds, stdout, stderr."""

    def __init__(self, work, corpus, step):
        base = f"{work}/runs/{corpus}.{step}"
        self.corpus, self.step, self.exists = corpus, step, os.path.exists(base + ".rc")
        read = lambda ext: open(base + ext, encoding="utf-8", errors="replace").read() if self.exists else ""
        self.rc = int(read(".rc").strip() or -1) if self.exists else None
        self.seconds = float(read(".sec").strip() or "nan") if self.exists else None
        self.out, self.err = read(".out"), read(".err")


SUMMARY = re.compile(
    r"^Fixed (?P<n>\d+) findings? in (?P<files>\d+) files? \((?P<checked>\d+) checked(?:; (?P<by>[^)]*))?\)\.")
TEXT_LINE = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<id>[a-z0-9-]+) .*? "
                       r"\[(?P<status>(?:fix refused|no fix|fix): .*)\]$")


def parse_fix_summary(stderr):
    """{transform: applied}, checked, files — from the `Fixed N findings in M files (K checked;
    id: n, ...).` line; None if the line is missing or has an unknown shape."""
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
            return {"applied": by, "total": int(m["n"]), "files": int(m["files"]), "checked": int(m["checked"])}
    return None


def parse_check_json(run, src):
    """Findings and errors of `asyncmod check --format json`, or None if it is not that JSON.

    Schema: {"findings": [{"path", "transform", "start": {"line"}, "fix": {"safety", "applicable"}
    | null, "no_fix_reason": str | null}], "errors": [{"path", "message"}]}."""
    try:
        data = json.loads(run.out)
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise ValueError
    except ValueError:
        return None
    rel = lambda p: os.path.relpath(os.path.abspath(p), os.path.abspath(src))
    findings = []
    for d in data["findings"]:
        findings.append({
            "where": f"{rel(d.get('path', '?'))}:{(d.get('start') or {}).get('line', '?')}",
            "transform": d.get("transform", "?"),
            "fix": d.get("fix"),
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


def report(work):
    src, orig, after1 = f"{work}/src", f"{work}/orig", f"{work}/after1"
    corpora = load(f"{work}/corpora.json")
    before = load(f"{work}/snap_before.json")
    after = load(f"{work}/snap_after1.json")
    after2 = load(f"{work}/snap_after2.json")
    rb, ra = ruff_counts(f"{work}/ruff_before.json"), ruff_counts(f"{work}/ruff_after.json")
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

    # --- asyncmod runs: exit codes, timeouts, panics, errors -------------------------------
    runs = {(c, s): Run(work, c, s) for c in corpora for s in STEPS}

    def bad_input(rel):
        """A file asyncmod may refuse to read: not UTF-8, or Python itself cannot compile it."""
        if rel is None or rel not in before:
            return False
        return not is_utf8(os.path.join(orig, rel)) or not before[rel].get("ok", True)

    checks = {}
    for (corpus, step), run in runs.items():
        name = f"{corpus}: asyncmod {step}"
        if not run.exists:
            violations.append(f"{name}: did not run")
            continue
        for line in run.err.splitlines():
            if "panicked" in line:
                violations.append(f"{name}: PANIC: {line.strip()}")
        if run.rc == TIMEOUT_RC:
            violations.append(f"{name}: TIMEOUT (killed by `timeout`)")
            continue
        errs = stderr_errors(run, src)
        if step.startswith("check"):
            parsed = parse_check_json(run, src)
            if parsed is None:
                violations.append(f"{name}: stdout is not `--format json` output (exit {run.rc})")
                continue
            checks[(corpus, step)] = parsed
            errs = [(p, f"{p}: {m}") for p, m in parsed["errors"]] + [e for e in errs if e[0] is None]
            ok_rcs = (0, 1)
        else:
            ok_rcs = (0,)
        unexpected = [line for path, line in errs if not bad_input(path)]
        for line in unexpected:
            violations.append(f"{name}: error on a file Python compiles: {line}")
        if run.rc not in ok_rcs and not (run.rc == 2 and errs and not unexpected):
            violations.append(f"{name}: exited {run.rc}")

    # --- findings after the fix: nothing fixable may be left ---------------------------------
    for corpus in corpora:
        for f in checks.get((corpus, "check-after"), {}).get("findings", []):
            if f["fix"] is not None:
                violations.append(f"still fixable after fix: {f['where']}: {f['transform']} (fix {f['fix'].get('safety')}, "
                                  f"applicable={f['fix'].get('applicable')})")
        for line in runs[(corpus, "fix1")].out.splitlines():
            m = TEXT_LINE.match(line)
            if m and m["status"].startswith("fix refused"):
                violations.append(f"fix refused (asyncmod bug): {os.path.relpath(m['path'], src)}:{m['line']}: "
                                  f"{m['id']}: {m['status']}")

    # --- ruff ---------------------------------------------------------------------------------
    for key in sorted(set(rb) | set(ra)):
        p, c = key
        if c in FCODES and ra[key] > rb[key]:
            violations.append(f"ruff {c} increased in {p}: {rb[key]} -> {ra[key]}")

    def tot(cnt, pkg, codes):
        return sum(n for (p, c), n in cnt.items() if pkg_of(p) == pkg and c in codes)

    # --- table 1: per package -----------------------------------------------------------------
    rows, T = [], Counter()
    for pkg in packages:
        pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
        v = dict(
            py=len(pyfiles), ok=sum(1 for r in pyfiles if before[r].get("ok")),
            ch=sum(1 for r in changed if pkg_of(r) == pkg), br=sum(1 for r in broken if pkg_of(r) == pkg),
            ni=sum(1 for r in not_idem if pkg_of(r) == pkg),
            ab=tot(rb, pkg, ("ASYNC251",)), aa=tot(ra, pkg, ("ASYNC251",)),
            rb=tot(rb, pkg, ("RUF006",)), ra=tot(ra, pkg, ("RUF006",)),
            fb=tot(rb, pkg, FCODES), fa=tot(ra, pkg, FCODES))
        if v["aa"] + v["ra"] > v["ab"] + v["rb"]:
            violations.append(f"ruff ASYNC251+RUF006 increased in {pkg}: {v['ab'] + v['rb']} -> {v['aa'] + v['ra']}")
        T.update(v)
        rows.append([pkg, v["py"], v["ok"], v["ch"], v["br"], v["ni"],
                     f"{v['ab']}->{v['aa']}", f"{v['rb']}->{v['ra']}", f"{v['fb']}->{v['fa']}"])
    rows.append(["TOTAL", T["py"], T["ok"], T["ch"], T["br"], T["ni"],
                 f"{T['ab']}->{T['aa']}", f"{T['rb']}->{T['ra']}", f"{T['fb']}->{T['fa']}"])
    if T["aa"] + T["ra"] >= T["ab"] + T["rb"] and T["ab"] + T["rb"] > 0:
        violations.append(f"ruff ASYNC251+RUF006 not lower overall: {T['ab'] + T['rb']} -> {T['aa'] + T['ra']}")

    print("\nFiles and Ruff, per package")
    print(table(["package", ".py", "compiled", "changed", "broken", "!idem", "ASYNC251", "RUF006", "F8xx"],
                rows, sep_before_last=True))
    print("compiled = .py files that compiled before; changed = files the first fix changed; broken = changed")
    print("files that compiled before and not after; !idem = files the second fix changed; Ruff columns are")
    print("before->after (F8xx = F821+F811+F823+F841).")

    # --- table 2: per transform ---------------------------------------------------------------
    rows, totals = [], defaultdict(Counter)
    summaries = {}
    for corpus in corpora:
        cb = checks.get((corpus, "check-before"), {}).get("findings", [])
        ca = checks.get((corpus, "check-after"), {}).get("findings", [])
        summ = summaries[corpus] = parse_fix_summary(runs[(corpus, "fix1")].err)
        refused = Counter()
        for line in runs[(corpus, "fix1")].out.splitlines():
            m = TEXT_LINE.match(line)
            if m and m["status"].startswith("fix refused"):
                refused[m["id"]] += 1
        nb, nfix, na = Counter(f["transform"] for f in cb), Counter(), Counter(f["transform"] for f in ca)
        nfix.update(f["transform"] for f in cb if f["fix"] is not None and f["fix"].get("applicable"))
        ids = sorted(set(nb) | set(na) | set(summ["applied"] if summ else {}) | set(refused))
        for t in ids:
            applied = summ["applied"].get(t, 0) if summ else None
            if applied is not None and applied != nb[t] - na[t]:
                notes.append(f"{corpus}/{t}: fix summary says {applied} applied, findings before-after = {nb[t] - na[t]}")
            rows.append([corpus, t, nb[t], nfix[t], "?" if applied is None else applied, nb[t] - na[t],
                         refused[t], na[t]])
            totals[t].update(before=nb[t], fixable=nfix[t], applied=applied or 0, diff=nb[t] - na[t],
                             refused=refused[t], left=na[t])
        if summ is None:
            notes.append(f"{corpus}: could not parse the fix summary line on stderr (fixed column shows '?')")
    all_t = Counter()
    for t in sorted(totals):
        c = totals[t]
        all_t.update(c)
        rows.append(["all", t, c["before"], c["fixable"], c["applied"], c["diff"], c["refused"], c["left"]])
    rows.append(["all", "TOTAL", all_t["before"], all_t["fixable"], all_t["applied"], all_t["diff"],
                 all_t["refused"], all_t["left"]])
    print("\nFindings per transform (asyncmod check/fix --unsafe-fixes)")
    print(table(["corpus", "transform", "before", "fixable", "fixed", "before-after", "refused", "left"],
                rows, sep_before_last=True, left=(0, 1)))
    print("before = findings `check` reported before the fix; fixable = of those, with an applicable fix;")
    print("fixed = applied, per the `fix` summary line; before-after = before minus findings `check` reports")
    print("after the fix; refused = fixes `fix` made but refused (failed verification: a bug); left = findings")
    print("after the fix (report-only or refused; none may be fixable).")

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
    rows = []
    for (corpus, step), run in runs.items():
        if not run.exists:
            continue
        extra = ""
        if step == "fix1" and summaries.get(corpus):
            s = summaries[corpus]
            extra = f"{s['checked']} checked, {s['files']} changed"
        nerr = len(stderr_errors(run, src)) if step.startswith("fix") else len(
            checks.get((corpus, step), {}).get("errors", []))
        rows.append([corpus, step, run.rc, f"{run.seconds:.1f}", nerr, extra])
    print("\nasyncmod runs (each under `timeout`; exit 124 = timed out)")
    print(table(["corpus", "step", "exit", "seconds", "errors", ""], rows, left=(0, 1, 5)))
    errs_seen = sorted({line for c in corpora for _, line in stderr_errors(runs[(c, "fix1")], src)})
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
    print_capped("ruff ASYNC251/RUF006 findings left after the fix",
                 [l for l in load(f"{work}/ruff_after.json")["lines"] if " ASYNC251 " in l or " RUF006 " in l])
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
    corpora = load(f"{work}/corpora.json")
    rb = ruff_counts(f"{work}/ruff_before.json")
    before = load(f"{work}/snap_before.json")
    rows = []
    for pkgs in corpora.values():
        for pkg in pkgs + (["stdlib/site-packages"] if "stdlib" in pkgs and
                           os.path.isdir(f"{work}/orig/stdlib/site-packages") else []):
            pyfiles = [r for r in before if pkg_of(r) == pkg and r.endswith(".py")]
            g = lambda codes: sum(n for (p, c), n in rb.items() if pkg_of(p) == pkg and c in codes)
            rows.append([pkg, len(pyfiles), sum(1 for r in pyfiles if before[r].get("ok")),
                         g(("ASYNC251",)), g(("RUF006",)), g(FCODES)])
    print()
    print(table(["package", ".py", "compiled", "ASYNC251", "RUF006", "F8xx"], rows))
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "snapshot":
        snapshot(args[0], args[1], args[2] == "1")
    elif cmd == "ruff":
        ruff(*args)
    elif cmd == "keep-changed":
        keep_changed(args[0])
    elif cmd == "report":
        sys.exit(report(args[0]))
    elif cmd == "baseline":
        sys.exit(baseline(args[0]))
    else:
        sys.exit(f"unknown helper command {cmd}")
