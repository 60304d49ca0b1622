#!/usr/bin/env python3
"""Benchmark driver: ovs-docker (ours) against /usr/bin/ovs-docker (upstream).

Run through scripts/bench.sh, which builds the release binary and brings the test bed
up first. Python 3.11 standard library only.

What it measures (medians of --runs interleaved runs, both tools alternately):
  * add-port, del-port and the add+del cycle on fresh netdev bridges that hold 0, 300
    and 1000 other ports (internal ports, see fill_bridge);
  * ours `--no-wait add-port` (client-side time) on the same bridges;
  * attaching and detaching 50 containers (upstream: 50 calls; ours: one `batch`);
  * peak RSS of one ours add-port and the start-up time of `ovs-docker --version`.
Writes benches/RESULTS.md and benches/chart.svg and prints the table.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import fcntl
import html
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILT = str(ROOT / "target" / "release" / "ovs-docker")
# Where the ovs-docker Debian package diverts the script while installed.
UPSTREAM = next(
    (p for p in ("/usr/bin/ovs-docker.upstream", "/usr/bin/ovs-docker") if Path(p).is_file()),
    "/usr/bin/ovs-docker",
)
IMAGE = "busybox:local"
CONTAINER_PREFIX = "ovsdt-bench-"  # scripts/testbed.sh clean removes ovsdt-*
BRIDGE_PREFIX = "ovsdtbench"  # ... and ovsdt* bridges
FILL_PREFIX = "ovsdtbf"  # internal ports, removed with their bridge
VETH_PREFIX = "ovsdtbk"  # bare veth pairs of the kernel-floor measurement
VETH_GROUP = 48879  # link group for the one-call deletion of many veths
SIZES = (0, 300, 1000)
FILL_CHUNK = 250  # ports per ovs-vsctl invocation when filling a bridge
BATCH_N = 50
IFACE = "eth1"
ADDR = "10.123.0.2/24"
LOCK_FILE = "/run/ovs-docker-bench.lock"
CMD_TIMEOUT = 120  # seconds; a hung command is a failure, not a stall

TOOLS = ("upstream", "ours")
BIN = {"upstream": UPSTREAM, "ours": BUILT}  # ours: a private copy once main() starts


class BenchError(Exception):
    """A command failed: the benchmark stops and says which and why."""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- commands


def _fail(cmd: list[str], p: subprocess.CompletedProcess, why: str) -> BenchError:
    return BenchError(
        f"{why}: {shlex.join(cmd)}\n--- exit status {p.returncode}; stderr:\n{p.stderr.rstrip()}\n"
        f"--- stdout:\n{p.stdout.rstrip()}"
    )


def run(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    """An unmeasured command; non-zero exit is a failure when check."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CMD_TIMEOUT, **kw)
    if check and p.returncode != 0:
        raise _fail(cmd, p, "command failed")
    return p


def checked(cmd: list[str], p: subprocess.CompletedProcess) -> None:
    """Failure checks for a tool run. Upstream exits 0 after most failures (a failed
    `ip` is ignored) but always says something on stderr then, and prints nothing on
    success: so its stderr must be empty."""
    if p.returncode != 0:
        raise _fail(cmd, p, "command failed")
    if cmd[0] == UPSTREAM and p.stderr.strip():
        raise _fail(cmd, p, "upstream exited 0 but reported an error")


def timed(*cmds: list[str]) -> float:
    """Milliseconds taken by CMDS run one after the other (one timing around all).
    Spawned with posix_spawn, output into files opened beforehand: no pipes and no
    reader loop, so the harness adds as little as it can (subprocess.run with
    captured output adds 1 to 3 ms here, which would hide most of a 4 ms command)."""
    files = [(tempfile.TemporaryFile(), tempfile.TemporaryFile()) for _ in cmds]
    codes = []
    t0 = time.perf_counter()
    for c, (out, err) in zip(cmds, files):
        fa = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        pid = os.posix_spawnp(c[0], c, os.environ, file_actions=fa)
        _, status = os.waitpid(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
    dt = time.perf_counter() - t0
    for c, (out, err), code in zip(cmds, files, codes):
        out.seek(0)
        err.seek(0)
        p = subprocess.CompletedProcess(c, code, out.read().decode(errors="replace"), err.read().decode(errors="replace"))
        out.close()
        err.close()
        checked(c, p)
    return dt * 1000.0


def untimed(cmd: list[str]) -> None:
    checked(cmd, subprocess.run(cmd, capture_output=True, text=True, timeout=CMD_TIMEOUT))


def add_cmd(tool: str, br: str, c: str, addr: str = ADDR, no_wait: bool = False) -> list[str]:
    pre = [BIN[tool]] + (["--no-wait"] if no_wait else [])
    return pre + ["add-port", br, IFACE, c, f"--ipaddress={addr}"]


def del_cmd(tool: str, br: str, c: str) -> list[str]:
    return [BIN[tool], "del-port", br, IFACE, c]


# --------------------------------------------------------------------------- resources


@dataclass
class Resources:
    """Everything this run created, removed in cleanup() whatever happens."""

    containers: list[str] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    veths: list[str] = field(default_factory=list)  # host ends; the peer goes with each
    tmpdir: str | None = None

    def cleanup(self) -> None:
        # A second Ctrl-C must not cut the cleanup short; its commands run in their
        # own session so the terminal's SIGINT does not reach them either.
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            if self.containers:
                log(f"removing {len(self.containers)} container(s)")
                subprocess.run(["docker", "rm", "-f", *self.containers], capture_output=True,
                               start_new_session=True, timeout=300)
                self.containers.clear()
            if self.bridges:
                log(f"removing bridge(s) {' '.join(self.bridges)}")
                args = ["ovs-vsctl", "--timeout=60"]
                for b in self.bridges:
                    args += ["--", "--if-exists", "del-br", b]
                subprocess.run(args, capture_output=True, start_new_session=True, timeout=120)
                self.bridges.clear()
            for v in self.veths:
                subprocess.run(["ip", "link", "del", v], capture_output=True, start_new_session=True, timeout=30)
            self.veths.clear()
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None
        finally:
            for s, h in old.items():
                signal.signal(s, h)


RES = Resources()


def preclean() -> None:
    """Remove what a killed earlier run of this benchmark left (ours only: other
    test suites' ovsdt* objects are left alone)."""
    names = [n for n in run(["docker", "ps", "-a", "--format", "{{.Names}}"]).stdout.split()
             if n.startswith(CONTAINER_PREFIX)]
    if names:
        log(f"removing leftovers of an earlier run: {' '.join(names)}")
        run(["docker", "rm", "-f", *names])
    brs = [b for b in run(["ovs-vsctl", "--timeout=30", "list-br"]).stdout.split() if b.startswith(BRIDGE_PREFIX)]
    if brs:
        log(f"removing leftover bridges: {' '.join(brs)}")
        args = ["ovs-vsctl", "--timeout=60"]
        for b in brs:
            args += ["--", "--if-exists", "del-br", b]
        run(args)


def preclean_veths() -> None:
    for ln in run(["ip", "-o", "link", "show"]).stdout.splitlines():
        name = ln.split(":")[1].strip().split("@")[0]
        if name.startswith(VETH_PREFIX):
            run(["ip", "link", "del", name], check=False)


def make_containers(names: list[str]) -> None:
    RES.containers.extend(names)  # registered first: a half-made one is removed too

    def one(n: str) -> None:
        run(["docker", "run", "-d", "--net=none", "--name", n, IMAGE, "sleep", "3600"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(one, n) for n in names]:
            f.result()


def make_bridge(name: str, nports: int) -> None:
    """A fresh netdev bridge holding NPORTS internal ports.

    Internal ports rather than veth pairs: each costs one OVSDB row and one tap device
    in ovs-vswitchd, which is exactly the per-port work (OVSDB rows, bridge
    reconfiguration) that grows with the bridge; 1000 of them take ~1 s to add in 4
    ovs-vsctl calls, where 1000 veth pairs would also need 1000 `ip link add`."""
    assert len(name) <= 15, name
    RES.bridges.append(name)
    run(["ovs-vsctl", "--timeout=60", "--", "--may-exist", "add-br", name,
         "--", "set", "bridge", name, "datapath_type=netdev"])
    for start in range(0, nports, FILL_CHUNK):
        args = ["ovs-vsctl", "--timeout=120"]
        for i in range(start, min(start + FILL_CHUNK, nports)):
            p = f"{FILL_PREFIX}{i}"
            args += ["--", "add-port", name, p, "--", "set", "interface", p, "type=internal"]
        run(args)
    got = len(run(["ovs-vsctl", "list-ports", name]).stdout.split())
    if got != nports:
        raise BenchError(f"bridge {name}: {got} ports after filling, expected {nports}")


def drop_bridge(name: str) -> None:
    run(["ovs-vsctl", "--timeout=120", "--if-exists", "del-br", name])
    RES.bridges.remove(name)


def attached(br: str) -> list[str]:
    """Container ports (upstream's or ours) on BR."""
    out = run(["ovs-vsctl", "--data=bare", "--no-heading", "--columns=name", "find", "interface",
               f"external_ids:container_iface={IFACE}"]).stdout.split()
    ports = set(run(["ovs-vsctl", "list-ports", br]).stdout.split())
    return [p for p in out if p in ports]


def verify_add(tool: str, br: str, c: str, addr: str = ADDR) -> None:
    """The add really happened: one port on BR, the address on eth1 in C."""
    ports = attached(br)
    if len(ports) != 1:
        raise BenchError(f"after {tool} add-port: {len(ports)} container ports on {br}: {ports}")
    out = run(["docker", "exec", c, "ip", "-o", "addr", "show", "dev", IFACE]).stdout
    if f"inet {addr}" not in out:
        raise BenchError(f"after {tool} add-port: {addr} not on {IFACE} in {c}:\n{out}")


def verify_empty(tool: str, br: str) -> None:
    ports = attached(br)
    if ports:
        raise BenchError(f"after {tool} del-port: container ports left on {br}: {ports}")


# --------------------------------------------------------------------------- measurements


def med(xs: list[float]) -> float:
    return statistics.median(xs)


@dataclass
class Results:
    runs: int
    batch_reps: int
    # samples[(kind, tool, size)] = [ms, ...]; kind in add, del, cycle, nowait
    samples: dict = field(default_factory=dict)
    batch: dict = field(default_factory=dict)  # (attach|detach, tool) -> [ms]
    batch_available: bool = False
    fill_s: dict = field(default_factory=dict)  # size -> seconds to fill
    peak_kb: list = field(default_factory=list)
    peak_method: str = ""
    startup: dict = field(default_factory=dict)  # ours/upstream/true -> [ms]
    kernel: dict = field(default_factory=dict)  # del1 / group -> [ms]
    profiles: dict = field(default_factory=dict)  # (size, what) -> (ms, stderr)

    def add(self, key, ms):
        self.samples.setdefault(key, []).append(ms)

    def m(self, kind, tool, size):
        return med(self.samples[(kind, tool, size)])


def bench_size(res: Results, size: int, c: str) -> None:
    br = f"{BRIDGE_PREFIX}{size}"
    log(f"bridge {br}: filling with {size} internal ports")
    t0 = time.perf_counter()
    make_bridge(br, size)
    res.fill_s[size] = time.perf_counter() - t0
    time.sleep(0.5)  # let ovs-vswitchd finish with the taps before timing anything

    # Warm-up, and proof that each tool really attaches and detaches (unmeasured).
    for tool in TOOLS:
        untimed(add_cmd(tool, br, c))
        verify_add(tool, br, c)
        untimed(del_cmd(tool, br, c))
        verify_empty(tool, br)
    untimed(add_cmd("ours", br, c, no_wait=True))
    untimed(del_cmd("ours", br, c))
    verify_empty("ours", br)

    log(f"bridge {br}: {res.runs} interleaved rounds")
    for i in range(res.runs):
        # A B then B A: alternate who goes first so drift and ordering hit both alike.
        order = TOOLS if i % 2 == 0 else TOOLS[::-1]
        for tool in order:  # measured add, unmeasured del
            res.add(("add", tool, size), timed(add_cmd(tool, br, c)))
            untimed(del_cmd(tool, br, c))
        for tool in order:  # unmeasured add, measured del
            untimed(add_cmd(tool, br, c))
            res.add(("del", tool, size), timed(del_cmd(tool, br, c)))
        for tool in order:  # add+del measured as one
            res.add(("cycle", tool, size), timed(add_cmd(tool, br, c), del_cmd(tool, br, c)))
        # ours, client side only: right after an unmeasured --no-wait add and del of ours,
        # so that what the previous command left running (upstream's, in half the rounds:
        # dockerd, ovs-vswitchd and the kernel busy for milliseconds after its dozen
        # processes) is not timed as ours
        untimed(add_cmd("ours", br, c, no_wait=True))
        untimed(del_cmd("ours", br, c))
        res.add(("nowait", "ours", size), timed(add_cmd("ours", br, c, no_wait=True)))
        untimed(del_cmd("ours", br, c))
    verify_empty("both", br)

    # Where ours spends its time: one verbose run of each (unmeasured in the table).
    for what, cmd in (("add-port", add_cmd("ours", br, c)), ("del-port", del_cmd("ours", br, c)),
                      ("--no-wait add-port", add_cmd("ours", br, c, no_wait=True)),
                      ("del-port (after --no-wait add-port)", del_cmd("ours", br, c))):
        cmd = [cmd[0], "-v", *cmd[1:]]
        t0 = time.perf_counter()
        p = run(cmd)
        res.profiles[(size, what)] = ((time.perf_counter() - t0) * 1000.0, p.stderr.rstrip())

    if size == 0:
        peak_memory(res, br, c)

    drop_bridge(br)
    log("bridge {}: add-port upstream {:.1f} ms, ours {:.1f} ms".format(
        br, res.m("add", "upstream", size), res.m("add", "ours", size)))


def peak_memory(res: Results, br: str, c: str) -> None:
    """Peak RSS (kB) of one ours add-port, 5 times (each followed by a del-port)."""
    cmd = add_cmd("ours", br, c)
    tbin = "/usr/bin/time"
    for _ in range(5):
        if os.access(tbin, os.X_OK):
            res.peak_method = "`/usr/bin/time -f %M`"
            with tempfile.NamedTemporaryFile("r", prefix="ovsdt-bench-time") as f:
                run([tbin, "-f", "%M", "-o", f.name, *cmd])
                kb = int(f.read().split()[-1])
        else:
            # RUSAGE_CHILDREN in a fresh interpreter whose only child is ours: this
            # process's own children (docker CLI, bash) would pollute the maximum.
            res.peak_method = "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh python3"
            prog = ("import resource,subprocess,sys\n"
                    "p=subprocess.run(sys.argv[1:])\n"
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                    "sys.exit(p.returncode)")
            kb = int(run([sys.executable, "-c", prog, *cmd]).stdout.split()[-1])
        res.peak_kb.append(kb)
        untimed(del_cmd("ours", br, c))


def spawn_ms(cmd: list[str]) -> float:
    """Milliseconds from posix_spawn to reaping CMD, output to /dev/null: no pipes and
    no reader loop, so the harness adds as little as it can to a ~1 ms figure."""
    fa = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=fa)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchError(f"command failed (exit {os.waitstatus_to_exitcode(status)}): {shlex.join(cmd)}")
    return dt * 1000.0


def startup(res: Results) -> None:
    """`ovs-docker --version`, 50 runs, interleaved with /bin/true (what spawning a
    process costs the harness itself) and upstream's `--help` for comparison."""
    cmds = {"ours": [BIN["ours"], "--version"], "true": ["/bin/true"], "upstream": [UPSTREAM, "--help"]}
    for cmd in cmds.values():  # warm the page cache
        spawn_ms(cmd)
    for _ in range(50):
        for k, cmd in cmds.items():
            res.startup.setdefault(k, []).append(spawn_ms(cmd))


def kernel_floor(res: Results) -> None:
    """What deleting a veth costs the kernel by itself (`ip link del`: the link is
    unlisted in about a millisecond, then an RCU barrier passes before the call
    returns), which upstream's del-port waits for; and deleting 50 pairs at once
    through a link group (one RTM_DELLINK, one unregister batch)."""
    for i in range(10):
        v = f"{VETH_PREFIX}{i}"
        RES.veths.append(v)
        run(["ip", "link", "add", v, "type", "veth", "peer", "name", f"{VETH_PREFIX}p{i}"])
        res.kernel.setdefault("del1", []).append(timed(["ip", "link", "del", v]))
        RES.veths.remove(v)
    if run(["ip", "-o", "link", "show", "group", str(VETH_GROUP)]).stdout.strip():
        log(f"link group {VETH_GROUP} is in use: group deletion not measured")
        return
    for r in range(3):
        names = [f"{VETH_PREFIX}{i}" for i in range(BATCH_N)]
        RES.veths.extend(names)
        for i, v in enumerate(names):
            run(["ip", "link", "add", v, "group", str(VETH_GROUP), "type", "veth", "peer", "name",
                 f"{VETH_PREFIX}p{i}"])
        res.kernel.setdefault("group", []).append(timed(["ip", "link", "del", "group", str(VETH_GROUP)]))
        RES.veths.clear()


def batch_available() -> bool:
    p = subprocess.run([BIN["ours"], "batch", "--help"], capture_output=True, text=True, timeout=30)
    return p.returncode == 0


def bench_batch(res: Results) -> None:
    names = [f"{CONTAINER_PREFIX}b{k:02d}" for k in range(BATCH_N)]
    addrs = [f"10.124.{k // 250}.{k % 250 + 2}/16" for k in range(BATCH_N)]
    log(f"batch: creating {BATCH_N} containers")
    make_containers(names)
    br = f"{BRIDGE_PREFIX}bat"
    make_bridge(br, 0)
    res.batch_available = batch_available()
    if not res.batch_available:
        log(f"batch: `ovs-docker batch --help` fails: ours runs as {BATCH_N} sequential calls")
    attach_file = os.path.join(RES.tmpdir, "attach")
    detach_file = os.path.join(RES.tmpdir, "detach")
    with open(attach_file, "w") as f:
        for n, a in zip(names, addrs):
            f.write(shlex.join(["add-port", br, IFACE, n, f"--ipaddress={a}"]) + "\n")
    with open(detach_file, "w") as f:
        for n in names:
            f.write(shlex.join(["del-port", br, IFACE, n]) + "\n")

    def attach(tool: str) -> float:
        if tool == "ours" and res.batch_available:
            return timed([BIN["ours"], "batch", attach_file])
        t0 = time.perf_counter()
        for n, a in zip(names, addrs):
            untimed(add_cmd(tool, br, n, addr=a))
        return (time.perf_counter() - t0) * 1000.0

    def detach(tool: str) -> float:
        if tool == "ours" and res.batch_available:
            return timed([BIN["ours"], "batch", detach_file])
        t0 = time.perf_counter()
        for n in names:
            untimed(del_cmd(tool, br, n))
        return (time.perf_counter() - t0) * 1000.0

    def count() -> int:
        return len(attached(br))

    for rep in range(res.batch_reps):
        order = TOOLS if rep % 2 == 0 else TOOLS[::-1]
        for tool in order:
            log(f"batch: round {rep + 1}/{res.batch_reps}, {tool}")
            res.batch.setdefault(("attach", tool), []).append(attach(tool))
            if (n := count()) != BATCH_N:
                raise BenchError(f"batch attach by {tool}: {n} ports on {br}, expected {BATCH_N}")
            if rep == 0:  # spot check: the last container got its address
                out = run(["docker", "exec", names[-1], "ip", "-o", "addr", "show", "dev", IFACE]).stdout
                if f"inet {addrs[-1]}" not in out:
                    raise BenchError(f"batch attach by {tool}: {addrs[-1]} missing in {names[-1]}:\n{out}")
            res.batch.setdefault(("detach", tool), []).append(detach(tool))
            if (n := count()) != 0:
                raise BenchError(f"batch detach by {tool}: {n} ports left on {br}")
    if res.batch_available:
        detach_floor(res, br, attach_file, detach_file, count)
    drop_bridge(br)


def detach_floor(res: Results, br: str, attach_file: str, detach_file: str, count) -> None:
    """What bounds a detach that waits for ovs-vswitchd: ovs-vswitchd's own time to
    remove the ports (on a netdev bridge it closes each port's packet socket, and
    the kernel makes every close wait for an RCU grace period), measured as one
    `ovs-vsctl` transaction removing all 50 rows; and, for comparison, our batch
    detach with `--no-wait` (everything but that wait)."""
    for rep in range(res.batch_reps):
        untimed([BIN["ours"], "batch", attach_file])
        ports = attached(br)
        cmd = ["ovs-vsctl", "--timeout=60"]
        for p in ports:
            cmd += ["--", "del-port", br, p]
        res.batch.setdefault(("detach", "ovs-vsctl, rows only, 1 transaction,"), []).append(timed(cmd))
        if (n := count()) != 0:
            raise BenchError(f"ovs-vsctl removing {len(ports)} ports: {n} left on {br}")
        untimed([BIN["ours"], "batch", detach_file])  # the veths ovs-vsctl left (orphans, healed)
        untimed([BIN["ours"], "batch", attach_file])
        res.batch.setdefault(("detach", "ours --no-wait"), []).append(
            timed([BIN["ours"], "--no-wait", "batch", detach_file]))
        if (n := count()) != 0:
            raise BenchError(f"--no-wait batch detach: {n} ports left on {br}")
        run(["ovs-vsctl", "--timeout=60", "set", "Bridge", br, f"external_ids:ovsdt-settle={rep}"])


# --------------------------------------------------------------------------- report


def fmt_ms(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ratio(x: float) -> str:
    return f"{x:.1f}x" if x < 100 else f"{x:.0f}x"


@dataclass
class Row:
    what: str
    ports: str
    upstream: str
    ours: str
    ratio: str
    target: str = ""
    verdict: str = ""


def build_rows(res: Results) -> tuple[list[Row], list[tuple[str, str, bool]]]:
    rows: list[Row] = []
    checks: list[tuple[str, str, bool]] = []  # (target, figure, pass)

    def ratio_row(kind: str, label: str, targets: dict):
        for size in SIZES:
            u, o = res.m(kind, "upstream", size), res.m(kind, "ours", size)
            r = u / o
            tgt, verdict = "", ""
            if size in targets:
                need = targets[size]
                ok = r >= need
                tgt = f">= {need:g}x faster"
                verdict = "PASS" if ok else "FAIL"
                checks.append((f"{label}, {size} ports: {tgt}", fmt_ratio(r), ok))
            rows.append(Row(label, str(size), fmt_ms(u), fmt_ms(o), fmt_ratio(r), tgt, verdict))

    ratio_row("add", "add-port", {0: 15, 300: 4})
    ratio_row("del", "del-port", {})
    ratio_row("cycle", "add+del cycle", {0: 5, 300: 2.5})
    for size in SIZES:
        rows.append(Row("ours --no-wait add-port", str(size), "", fmt_ms(res.m("nowait", "ours", size)), ""))
    growth = res.m("nowait", "ours", 1000) / res.m("nowait", "ours", 0)
    ok = growth <= 1.5
    checks.append(("ours --no-wait add-port growth 0 -> 1000 ports: <= 1.5x", f"{growth:.2f}x", ok))
    rows.append(Row("  growth 0 -> 1000 ports", "", "", f"{growth:.2f}x", "", "<= 1.5x", "PASS" if ok else "FAIL"))

    ours_label = "ours: 1 batch" if res.batch_available else f"ours, {BATCH_N} calls (batch not available)"
    for kind in ("attach", "detach"):
        u, o = med(res.batch[(kind, "upstream")]), med(res.batch[(kind, "ours")])
        r = u / o
        ok = r >= 20
        checks.append((f"batch {kind} of {BATCH_N}: >= 20x faster ({ours_label})", fmt_ratio(r), ok))
        rows.append(Row(f"batch {kind} {BATCH_N}, {ours_label}", "0", fmt_ms(u), fmt_ms(o), fmt_ratio(r),
                        ">= 20x faster", "PASS" if ok else "FAIL"))

    peak = max(res.peak_kb) / 1024.0
    ok = peak < 15
    checks.append(("ours add-port peak memory: < 15 MB", f"{peak:.1f} MB", ok))
    rows.append(Row("ours add-port peak RSS (MB, max of 5)", "0", "", f"{peak:.1f}", "", "< 15 MB",
                    "PASS" if ok else "FAIL"))
    su = med(res.startup["ours"])
    ok = su < 2
    checks.append(("ours start-up (`--version`): < 2 ms", f"{su:.2f} ms", ok))
    rows.append(Row("start-up: ours --version / upstream --help", "", fmt_ms(med(res.startup["upstream"])),
                    fmt_ms(su), fmt_ratio(med(res.startup["upstream"]) / su), "< 2 ms", "PASS" if ok else "FAIL"))
    rows.append(Row("  /bin/true (cost of spawning any process)", "", "", fmt_ms(med(res.startup["true"])), ""))
    return rows, checks


def context_lines(res: Results) -> list[str]:
    """Figures that explain the table: what the tools cannot go below."""
    out = []
    nw = {s: res.m("nowait", "ours", s) for s in SIZES}
    out.append("ours add-port minus ours --no-wait add-port (waiting for ovs-vswitchd to apply the port): "
               + ", ".join(f"{s} ports {res.m('add', 'ours', s) - nw[s]:.1f} ms" for s in SIZES))
    mins = [min(res.samples[("nowait", "ours", s)]) for s in (SIZES[0], SIZES[-1])]
    out.append(f"ours --no-wait add-port growth 0 -> 1000 ports of the fastest run instead of the median: "
               f"{mins[0]:.2f} -> {mins[1]:.2f} ms = {mins[1] / mins[0]:.2f}x")
    if floor := res.batch.get(("detach", "ovs-vsctl, rows only, 1 transaction,")):
        u = med(res.batch[("detach", "upstream")])
        f = med(floor)
        out.append(f"ovs-vswitchd floor of a waiting detach: one `ovs-vsctl` transaction removing the {BATCH_N} "
                   f"rows (veths left alone) takes {f:.0f} ms until ovs-vswitchd has applied it, so no detach "
                   f"that waits, as both tools do, can be more than {u / f:.1f}x faster than upstream's {u:.0f} ms")
        nw = med(res.batch[("detach", "ours --no-wait")])
        out.append(f"ours `--no-wait batch` detach of {BATCH_N} (all but that wait): {nw:.1f} ms, "
                   f"{u / nw:.1f}x faster than upstream's waiting calls")
    if "del1" in res.kernel:
        d1 = med(res.kernel["del1"])
        out.append(f"kernel: `ip link del` of one veth pair takes {d1:.1f} ms (median of "
                   f"{len(res.kernel['del1'])}, spawn included), most of it after the link is already gone "
                   "(the RCU barrier before the memory is freed); upstream's del-port waits for all of it, ours "
                   "returns once the kernel has announced the link deleted")
        if "group" in res.kernel:
            out.append(f"deleting {BATCH_N} veth pairs with one `ip link del group N` (one unregister batch): "
                       f"{med(res.kernel['group']):.1f} ms, against {BATCH_N} x {d1:.1f} = {BATCH_N * d1:.0f} ms "
                       "one by one")
    return out


HEAD = ("measurement", "bridge ports", "upstream ms", "ours ms", "upstream/ours", "target", "result")


def table(rows: list[Row]) -> str:
    cells = [HEAD] + [(r.what, r.ports, r.upstream, r.ours, r.ratio, r.target, r.verdict) for r in rows]
    w = [max(len(c[i]) for c in cells) for i in range(len(HEAD))]
    right = {1, 2, 3, 4}

    def line(c):
        return "| " + " | ".join(x.rjust(w[i]) if i in right else x.ljust(w[i]) for i, x in enumerate(c)) + " |"

    sep = "|" + "|".join(("-" * (w[i] + 1) + ":") if i in right else ("-" * (w[i] + 2)) for i in range(len(w))) + "|"
    return "\n".join([line(cells[0]), sep] + [line(c) for c in cells[1:]])


def sh(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr).strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts() -> dict[str, str]:
    cpu = "?"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        os_name = next(ln.split("=", 1)[1].strip().strip('"') for ln in open("/etc/os-release")
                       if ln.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        os_name = "?"
    commit = sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    built = datetime.datetime.fromtimestamp(os.stat(BIN["ours"]).st_mtime).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu,
        "OS": os_name,
        "kernel": platform.release(),
        "Open vSwitch": sh(["ovs-vswitchd", "--version"]),
        "datapath": "userspace (netdev bridges)",
        "Docker": "server " + sh(["docker", "version", "--format", "{{.Server.Version}}"]),
        "ours": f"{sh([BIN['ours'], '--version'])}, git {commit}{' + uncommitted changes' if dirty else ''}"
                f" (target/release/ovs-docker built {built}, copied aside at start so that a concurrent"
                " build cannot swap it mid-run)",
        "upstream": f"{UPSTREAM} ({sh(['dpkg-query', '-S', UPSTREAM])})",
    }


def step_breakdown(verbose: str, total_ms: float) -> str:
    """`-v` lines "ovs-docker: [  1.295 ms] creating veth X ..." -> "creating veth 1.1, ..."."""
    steps = []
    for ln in verbose.splitlines():
        m = re.match(r"^\S+: \[\s*([0-9.]+) ms\] (.*)$", ln)
        if m:
            words = m.group(2).split()[:2]
            if len(words) > 1 and not words[1].isalpha():  # 'container "web1" is ...'
                words = words[:1]
            steps.append((float(m.group(1)), " ".join(words)))
    if not steps:
        return "(no steps printed)"
    parts = []
    for i, (t, name) in enumerate(steps):
        end = steps[i + 1][0] if i + 1 < len(steps) else total_ms
        parts.append(f"{name} **{end - t:.1f}**" if end - t >= 0.5 * total_ms else f"{name} {end - t:.1f}")
    return " · ".join(parts)


def write_markdown(res: Results, rows, checks, facts, argv, t_start, t_end, load0, load1) -> str:
    n_ok = sum(ok for *_, ok in checks)
    out = []
    out.append("# ovs-docker benchmark results\n")
    out.append(f"- date: {t_start.strftime('%Y-%m-%d %H:%M:%S %Z')}, took {(t_end - t_start).total_seconds():.0f} s")
    out.append(f"- command: `{shlex.join(['bash', 'scripts/bench.sh', *argv])}`"
               f" ({res.runs} interleaved runs per figure, {res.batch_reps} batch round(s); medians)")
    for k, v in facts.items():
        out.append(f"- {k}: {v}")
    out.append(f"- load average (1 min) at start / end: {load0:.2f} / {load1:.2f}"
               " (the machine is shared: other test suites may have been running)")
    out.append("")
    out.append("## Figures\n")
    out.append("Median wall-clock milliseconds from `posix_spawn` to `waitpid` (exec and exit included; output to files), "
               "upstream = `/usr/bin/ovs-docker`, ours = `target/release/ovs-docker`; "
               "upstream/ours is how many times faster ours is. Peak memory is in MB; start-up is timed "
               "the same way with output to /dev/null (see Method).\n")
    out.append(table(rows))
    out.append("")
    out.append(f"## Targets: {n_ok} of {len(checks)} met\n")
    out.append("| target | figure | result |\n|---|---:|---|")
    for t, fig, ok in checks:
        out.append(f"| {t} | {fig} | {'PASS' if ok else 'FAIL'} |")
    out.append("")
    out.append("## Context\n")
    out.extend(f"- {ln}" for ln in context_lines(res))
    out.append("")
    out.append("![median time against bridge size](chart.svg)\n")
    out.append("## Method\n")
    out.append(
        f"- Each bridge size gets a fresh `datapath_type=netdev` bridge filled with that many *internal* "
        f"ports (`ovs-vsctl add-port BR {FILL_PREFIX}N -- set interface {FILL_PREFIX}N type=internal`, "
        f"{FILL_CHUNK} per ovs-vsctl call). Internal ports rather than veth pairs: each is one OVSDB row "
        "and one tap device in ovs-vswitchd, which is the per-port state that makes a bridge "
        "reconfiguration slow, and 1000 of them are added in about a second "
        "(fill time: " + ", ".join(f"{s} ports {res.fill_s[s]:.1f} s" for s in SIZES) + ").")
    out.append(f"- One container (`busybox:local`, `--net=none`) per bridge; the command is "
               f"`add-port BR {IFACE} C --ipaddress={ADDR}` and `del-port BR {IFACE} C`.")
    out.append("- add-port: each measured add is followed by an unmeasured del-port of the same tool; "
               "del-port: each measured del is preceded by an unmeasured add of the same tool; "
               "cycle: add then del timed as one. Every round runs upstream and ours alternately, and "
               "the tool going first alternates from round to round (A B, B A, ...).")
    out.append("- `--no-wait add-port` is ours without waiting for ovs-vswitchd to apply the change "
               "(`next_cfg`/`cur_cfg`): the client-side work, which should not grow with the bridge. "
               "Each is timed right after an unmeasured `--no-wait` add and del of ours, at every bridge "
               "size alike: timed right after upstream's commands instead, it also measures what those "
               "left running (on a 1000-port bridge, after an upstream add and del: 7.2 ms median; "
               "after ours: 3.9 ms; after 0.3 s of idleness: 6.3 ms).")
    out.append("- Before timing, each tool's add is verified (one container port on the bridge, the "
               "address on eth1 inside the container) and its del too (no port left). A non-zero exit, or "
               "upstream writing to stderr (it exits 0 after most failures), stops the benchmark.")
    out.append(f"- Batch: {BATCH_N} containers created before timing; upstream = {BATCH_N} sequential "
               f"`add-port BR eth1 C --ipaddress=10.124.X.Y/16` calls, then {BATCH_N} `del-port` calls; "
               + ("ours = one `ovs-docker batch FILE` with one command per line, for each direction."
                  if res.batch_available else
                  f"ours = **{BATCH_N} sequential calls: `ovs-docker batch --help` failed, so the "
                  "`batch` subcommand was not available** (the driver uses it as soon as it exists).")
               + " After each direction the port count on the bridge is checked.")
    out.append(f"- Peak memory: {res.peak_method} around one ours add-port, 5 times "
               f"(kB: {', '.join(map(str, res.peak_kb))}; the maximum is reported).")
    out.append("- Start-up: `ovs-docker --version`, 50 runs interleaved with `/bin/true` (what spawning "
               "a process costs by itself) and upstream's `--help` (bash, plus its checks for ovs-vsctl, "
               "docker, uuidgen and `ip netns`). Timed from `os.posix_spawn` to `os.waitpid`, output to "
               "/dev/null: `subprocess.run` with captured output adds 1 to 3 ms of its own here, more "
               "than the 2 ms target.")
    out.append("")
    out.append("## All series\n")
    out.append("| series | bridge ports | n | min ms | median ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    names = {"add": "add-port", "del": "del-port", "cycle": "add+del cycle", "nowait": "--no-wait add-port"}
    for kind in ("add", "del", "cycle", "nowait"):
        for tool in TOOLS:
            for size in SIZES:
                xs = res.samples.get((kind, tool, size))
                if xs:
                    out.append(f"| {tool} {names[kind]} | {size} | {len(xs)} | {fmt_ms(min(xs))} | "
                               f"{fmt_ms(med(xs))} | {fmt_ms(max(xs))} |")
    for (kind, tool), xs in sorted(res.batch.items()):
        out.append(f"| {tool} batch {kind} {BATCH_N} | 0 | {len(xs)} | {fmt_ms(min(xs))} | "
                   f"{fmt_ms(med(xs))} | {fmt_ms(max(xs))} |")
    for k, label in (("ours", "ours --version"), ("upstream", "upstream --help"), ("true", "/bin/true")):
        xs = res.startup[k]
        out.append(f"| {label} | | {len(xs)} | {fmt_ms(min(xs))} | {fmt_ms(med(xs))} | {fmt_ms(max(xs))} |")
    for k, label in (("del1", "kernel: ip link del, 1 veth pair"), ("group", f"kernel: ip link del group, {BATCH_N} pairs")):
        if xs := res.kernel.get(k):
            out.append(f"| {label} | | {len(xs)} | {fmt_ms(min(xs))} | {fmt_ms(med(xs))} | {fmt_ms(max(xs))} |")
    out.append("")
    out.append("## Where ours spends its time (`ovs-docker -v`, one run each)\n")
    out.append("`-v` prints each step with the milliseconds since start. A step lasts until the next "
               "one starts; the last one lasts until the process exits (total = wall-clock time seen by "
               "the driver), so it includes the OVSDB commit and, without `--no-wait`, waiting for "
               "ovs-vswitchd to apply the change.\n")
    out.append("| command | bridge ports | total ms | steps: ms each |\n|---|---:|---:|---|")
    for (size, what), (ms, err) in res.profiles.items():
        out.append(f"| {what} | {size} | {ms:.1f} | {step_breakdown(err, ms)} |")
    out.append("\n<details><summary>raw <code>-v</code> output</summary>\n")
    for (size, what), (ms, err) in res.profiles.items():
        out.append(f"`{what}`, {size} other ports, total {ms:.1f} ms:\n")
        out.append("```\n" + (err or "(no output)") + "\n```\n")
    out.append("</details>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- chart


def nice_log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo * 0.9999 <= v <= hi * 1.0001:
                ticks.append(v)
        e += 1
    return ticks


def chart_svg(res: Results, facts: dict, date: str) -> str:
    W, H = 860, 520
    L, R, T, B = 80, 250, 70, 70  # margins; legend lives in the right one
    pw, ph = W - L - R, H - T - B
    series = [
        ("upstream add-port", "add", "upstream", "#d62728", "", "circle"),
        ("ours add-port", "add", "ours", "#1f77b4", "", "circle"),
        ("upstream add+del cycle", "cycle", "upstream", "#d62728", "7,5", "square"),
        ("ours add+del cycle", "cycle", "ours", "#1f77b4", "7,5", "square"),
    ]
    vals = [res.m(k, t, s) for _, k, t, *_ in series for s in SIZES]
    # log scale: ours and upstream differ by up to two orders of magnitude; bounds on 1-2-5 steps
    steps = [m * 10 ** e for e in range(-3, 7) for m in (1, 2, 5)]
    lo = max(v for v in steps if v <= min(vals))
    hi = min(v for v in steps if v >= max(vals) * 1.05)

    def x(size):
        return L + pw * size / SIZES[-1]

    def y(ms):
        return T + ph * (1 - (math.log10(ms) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    e = html.escape
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="28" font-size="17" font-weight="bold">ovs-docker: median time against bridge size</text>',
         f'<text x="{L}" y="50" font-size="12" fill="#555">{e(date)}, {res.runs} runs per point, '
         f'{e(facts["nproc"])} cores, {e(facts["Open vSwitch"])} (userspace); lower is better</text>']
    # grid and y axis (log)
    for v in nice_log_ticks(lo, hi):
        yy = y(v)
        major = abs(math.log10(v) - round(math.log10(v))) < 1e-9
        o.append(f'<line x1="{L}" y1="{yy:.1f}" x2="{L + pw}" y2="{yy:.1f}" stroke="{"#bbb" if major else "#e6e6e6"}"/>')
        o.append(f'<text x="{L - 8}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
    for s in SIZES:
        o.append(f'<line x1="{x(s):.1f}" y1="{T}" x2="{x(s):.1f}" y2="{T + ph}" stroke="#e6e6e6"/>')
        o.append(f'<text x="{x(s):.1f}" y="{T + ph + 20}" text-anchor="middle">{s}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{L + pw / 2}" y="{H - 22}" text-anchor="middle">other ports on the bridge</text>')
    o.append(f'<text transform="translate(22,{T + ph / 2}) rotate(-90)" text-anchor="middle">'
             'median time, ms (log scale)</text>')
    # lines and markers
    for label, kind, tool, color, dash, marker in series:
        pts = [(x(s), y(res.m(kind, tool, s))) for s in SIZES]
        d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        o.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2.5"'
                 + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        for px, py in pts:
            if marker == "circle":
                o.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{color}"/>')
            else:
                o.append(f'<rect x="{px - 4:.1f}" y="{py - 4:.1f}" width="8" height="8" fill="white" '
                         f'stroke="{color}" stroke-width="2"/>')
    # value labels beside each point (right of it, left at the last size), pushed apart
    # vertically so that close points keep readable labels; a white halo keeps them
    # legible over the lines
    gap = 13
    for s in SIZES:
        # lines rise to the right: below-right of a point is clear of its line, and so is
        # above-left of the last point
        off = -8 if s == SIZES[-1] else 15
        labs = sorted(((y(res.m(kind, tool, s)) + off, res.m(kind, tool, s), color)
                       for _, kind, tool, color, *_ in series), key=lambda t: t[0])
        ys = [t[0] for t in labs]
        for i in range(1, len(ys)):
            ys[i] = max(ys[i], ys[i - 1] + gap)
        over = ys[-1] - (T + ph - 4)  # keep them inside the plot
        if over > 0:
            ys = [v - over for v in ys]
            for i in range(len(ys) - 2, -1, -1):
                ys[i] = min(ys[i], ys[i + 1] - gap)
        last = s == SIZES[-1]
        lx = x(s) + (-6 if last else 6)
        for (py, v, color), ly in zip(labs, ys):
            o.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{"end" if last else "start"}" '
                     f'font-size="11" fill="{color}" stroke="white" stroke-width="3" paint-order="stroke">'
                     f'{fmt_ms(v)}</text>')
    # legend
    lx, ly = L + pw + 25, T + 10
    o.append(f'<text x="{lx}" y="{ly}" font-weight="bold">legend</text>')
    for i, (label, kind, tool, color, dash, marker) in enumerate(series):
        yy = ly + 26 + i * 26
        o.append(f'<line x1="{lx}" y1="{yy}" x2="{lx + 36}" y2="{yy}" stroke="{color}" stroke-width="2.5"'
                 + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        if marker == "circle":
            o.append(f'<circle cx="{lx + 18}" cy="{yy}" r="4.5" fill="{color}"/>')
        else:
            o.append(f'<rect x="{lx + 14}" y="{yy - 4}" width="8" height="8" fill="white" stroke="{color}" '
                     'stroke-width="2"/>')
        o.append(f'<text x="{lx + 44}" y="{yy + 4}">{e(label)}</text>')
    note_y = ly + 26 + 4 * 26 + 10
    for j, ln in enumerate(("red: /usr/bin/ovs-docker", "blue: target/release/ovs-docker",
                            "cycle = add-port + del-port", "values: median ms")):
        o.append(f'<text x="{lx}" y="{note_y + j * 17}" font-size="11" fill="#555">{e(ln)}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 runs per figure and 1 batch round")
    ap.add_argument("--runs", type=int, help="runs per figure (default 20, 5 with --quick)")
    ap.add_argument("--out", default=str(ROOT / "benches"), help="where RESULTS.md and chart.svg go")
    args = ap.parse_args()
    argv = sys.argv[1:]
    runs = args.runs or (5 if args.quick else 20)
    res = Results(runs=runs, batch_reps=1 if args.quick else 3)

    if os.geteuid() != 0:
        log("run as root")
        return 1
    for b in (BUILT, UPSTREAM):
        if not os.access(b, os.X_OK):
            log(f"{b} missing (run through scripts/bench.sh, which builds it)")
            return 1

    def on_term(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Explicitly: a shell starts background jobs with SIGINT ignored, and Python then
    # leaves it ignored; the cleanup below must run on any of these.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    # One benchmark at a time: two would share (and remove) each other's objects.
    lock = open(LOCK_FILE, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"another benchmark is running (it holds {LOCK_FILE})")
        return 1

    t_start = datetime.datetime.now(datetime.timezone.utc).astimezone()
    load0 = os.getloadavg()[0]
    try:
        # Benchmark a private copy: a concurrent `cargo build` may replace BUILT mid-run.
        RES.tmpdir = tempfile.mkdtemp(prefix="ovsdt-bench-")
        BIN["ours"] = os.path.join(RES.tmpdir, "ovs-docker")
        shutil.copy2(BUILT, BIN["ours"])
        facts = machine_facts()
        preclean()
        preclean_veths()
        c = f"{CONTAINER_PREFIX}c"
        make_containers([c])
        for size in SIZES:
            bench_size(res, size, c)
        log("start-up: 50 runs")
        startup(res)
        log("kernel floor: veth deletion")
        kernel_floor(res)
        bench_batch(res)
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        RES.cleanup()
    t_end = datetime.datetime.now(datetime.timezone.utc).astimezone()
    load1 = os.getloadavg()[0]

    rows, checks = build_rows(res)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = write_markdown(res, rows, checks, facts, argv, t_start, t_end, load0, load1)
    (out / "RESULTS.md").write_text(md)
    (out / "chart.svg").write_text(chart_svg(res, facts, t_start.strftime("%Y-%m-%d")))

    print()
    print(table(rows))
    print()
    print(f"targets met: {sum(ok for *_, ok in checks)} of {len(checks)}")
    for t, fig, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {t}: {fig}")
    print("\ncontext:")
    for ln in context_lines(res):
        print(f"  {ln}")
    print(f"\ntook {(t_end - t_start).total_seconds():.0f} s; wrote {out / 'RESULTS.md'} and {out / 'chart.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
