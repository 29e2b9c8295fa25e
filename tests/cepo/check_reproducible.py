#!/usr/bin/env python3
"""`cep compile` is reproducible: the same rules give byte-identical .cepo files.

Compiles examples/fraud/*.cep (several files with imports) four ways: twice from the example's
folder with relative paths, once from another folder with absolute paths, and once with the
files copied to another temporary folder. All four artifacts must have the same bytes (no
timestamps, no absolute paths, nothing from hash-map order), at -O0 and -O2; a changed source
byte must change the artifact (the source hash). Then `cep explain` on it must work.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def compile_rules(cep, files, out, cwd, opt):
    p = subprocess.run([cep, "compile", *files, "-o", out, "-O", str(opt)], cwd=cwd,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"cep compile {' '.join(files)} exited {p.returncode}: {p.stderr}")
    with open(out, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--example", required=True, help="examples/fraud")
    opts = ap.parse_args()
    cep = os.path.abspath(opts.cep)
    example = os.path.abspath(opts.example)
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(example, "*.cep")))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "copy", "rules")
        shutil.copytree(example, copy)
        for opt in (0, 2):
            a = compile_rules(cep, names, os.path.join(tmp, "a.cepo"), example, opt)
            b = compile_rules(cep, names, os.path.join(tmp, "b.cepo"), example, opt)
            c = compile_rules(cep, [os.path.join(example, n) for n in names],
                              os.path.join(tmp, "c.cepo"), tmp, opt)
            d = compile_rules(cep, names, os.path.join(tmp, "d.cepo"), copy, opt)
            for label, other in (("second run", b), ("absolute paths", c), ("copied", d)):
                if other != a:
                    problems.append(f"-O{opt}: {label} differs from the first artifact")
            if example.encode() in a or tmp.encode() in a:
                problems.append(f"-O{opt}: the artifact holds an absolute path")
        with open(os.path.join(copy, names[0]), "ab") as f:
            f.write(b"\n// changed\n")
        e = compile_rules(cep, names, os.path.join(tmp, "e.cepo"), copy, 2)
        if e == a:
            problems.append("a changed source gives the same artifact")
        p = subprocess.run([cep, "explain", "--no-host", os.path.join(tmp, "a.cepo")],
                           capture_output=True, text=True)
        if p.returncode != 0 or "pattern " not in p.stdout:
            problems.append(f"cep explain exited {p.returncode}: {p.stderr}")
    for problem in problems:
        print("FAIL", problem)
    print("reproducible: " + ("no" if problems else "yes") + f" ({len(names)} files)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
