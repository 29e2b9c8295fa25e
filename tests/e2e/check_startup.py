#!/usr/bin/env python3
"""`cep run x.cepo --stats` says where the artifact's load time went; the lean `cep` (the program
that runs `cep run x.cepo`, cli/main_lean.cpp) needs none of the libraries that cost start-up time
(libLLVM, RocksDB, librdkafka, cpp-httplib and OpenSSL), and the whole program `cep-full` built with
CEP_STATIC_LLVM does not load the shared libLLVM (bench/RESULTS.md "Start-up").

Timings are printed, never asserted (the machine is shared): the test checks the line's shape and
that its parts add up to the total, and the program's dynamic section."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LOAD = re.compile(r"^artifact load ([\d.]+) ms \(read and check ([\d.]+), host set-up ([\d.]+), "
                  r"link ([\d.]+)\)$", re.M)


def fail(message):
    sys.exit("check_startup: " + message)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cep", required=True)
    p.add_argument("--cep-full", required=True)
    p.add_argument("--rules", required=True, help="a .cep file to compile")
    p.add_argument("--static-llvm", choices=["ON", "OFF"], required=True)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cepo = os.path.join(tmp, "x.cepo")
        one = os.path.join(tmp, "one.jsonl")
        with open(one, "w") as f:
            f.write('{"type":"A","key":1,"ts":1700000000123}\n')
        subprocess.run([args.cep, "compile", args.rules, "-o", cepo], check=True, timeout=120)
        run = subprocess.run([args.cep, "run", cepo, "-i", one, "--stats", "-o", os.devnull],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            fail(f"cep run {cepo} exited {run.returncode}: {run.stderr}")
        m = LOAD.search(run.stderr)
        if not m:
            fail("no `artifact load` line in --stats:\n" + run.stderr)
        total, parts = float(m.group(1)), [float(m.group(i)) for i in (2, 3, 4)]
        if abs(sum(parts) - total) > 0.02 or min(parts) < 0 or parts[1] <= 0 or parts[2] <= 0:
            fail("the load's parts do not add up: " + m.group(0))
        print(m.group(0))
    def needed(program):
        dynamic = subprocess.run(["readelf", "-d", program], capture_output=True, text=True,
                                 check=True).stdout
        return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)

    lean = needed(args.cep)
    if not lean:
        fail(f"readelf -d {args.cep} lists no NEEDED library")
    heavy = [lib for lib in lean
             if lib.startswith(("libLLVM", "librocksdb", "librdkafka", "libcpp-httplib", "libssl",
                                "libcrypto"))]
    if heavy:
        fail(f"{args.cep} (the lean cep) needs {', '.join(heavy)}")
    print("cep needs:", " ".join(lean))
    loads_llvm = any(lib.startswith("libLLVM") for lib in needed(args.cep_full))
    if args.static_llvm == "ON" and loads_llvm:
        fail(f"{args.cep_full} is built with CEP_STATIC_LLVM but needs the shared libLLVM")
    if args.static_llvm == "OFF" and not loads_llvm:
        fail(f"{args.cep_full} is built without CEP_STATIC_LLVM but does not need the shared "
             "libLLVM")
    print("cep-full libLLVM:", "shared" if loads_llvm else "static")

if __name__ == "__main__":
    main()
