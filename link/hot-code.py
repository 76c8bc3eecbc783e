#!/usr/bin/env python3
"""Writes link/hot-code.ld: the functions an idle language server runs, placed first in the binary.

An idle server's resident memory is mostly the pages of its own code: the kernel maps 64 KiB around
every page of code it faults in, so code that never runs is resident when it sits next to code that
does. This script runs a release build of the server under valgrind's callgrind through what an
editor does (start, initialize, list plans with an empty and with a filled database), then through
work (create, approve, run two shell steps, read back), and lists every function it ran, idle ones
first. `build.rs` hands the list to the linker for release builds, which puts those functions in
the start of `.text` in that order.

The list names functions without the hash rustc appends to each symbol (it changes with the
profile and the dependencies), so it stays useful as the code changes. The standard library's
names carry its crates' hashes, which change with the toolchain. Regenerate the list when
`cargo bench --bench stdio` shows idle memory creeping up:

    cargo build --release && python3 link/hot-code.py

Needs valgrind (apt install valgrind) and nm (binutils).
"""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "link", "hot-code.ld")
HASH = re.compile(r"17h[0-9a-f]{16}E$")


class Server:
    """The server over stdio, optionally under callgrind."""

    def __init__(self, binary, workspace, profile_to=None):
        command = [binary]
        if profile_to:
            command = ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no",
                       "--compress-pos=no", "--callgrind-out-file=" + profile_to, binary]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, cwd=workspace)
        self.next_id = 0
        self.call("initialize", {
            "processId": os.getpid(),
            "rootUri": "file://" + workspace,
            "capabilities": {"window": {"workDoneProgress": True}, "workspace": {"configuration": True}},
        })
        self.notify("initialized", {})

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def read(self):
        header = self.process.stdout.readline()
        if not header:
            raise SystemExit("the server closed its output")
        length = int(header.split(b":")[1])
        self.process.stdout.readline()
        return json.loads(self.process.stdout.read(length))

    def answer(self, message):
        """Answers what the server asks the client (configuration, progress tokens) with null."""
        if "method" in message and "id" in message:
            result = [None] * len(message["params"].get("items", [])) if message["method"] == "workspace/configuration" else None
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def call(self, method, params):
        self.next_id += 1
        request_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            message = self.read()
            self.answer(message)
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return message["result"]

    def wait_for_finish(self, run_id):
        while True:
            message = self.read()
            self.answer(message)
            params = message.get("params") or {}
            if message.get("method") == "planning/progress" and params.get("runId") == run_id \
                    and params["event"]["kind"] == "planFinished":
                return params["event"]["status"]

    def close(self):
        self.call("shutdown", None)
        self.notify("exit", None)
        self.process.wait()


def shell_plan(server, task, commands):
    subtasks = [{"id": f"s{index}", "title": f"step {index}", "agent": "shell", "command": command}
                for index, command in enumerate(commands, 1)]
    for index in range(1, len(subtasks)):
        subtasks[index]["dependsOn"] = [f"s{index}"]
    return server.call("planning/create", {"task": task, "mode": "plan", "subtasks": subtasks})["plan"]["id"]


def idle(server):
    server.call("planning/list", {"limit": 1})
    server.call("planning/list", {})


def work(server):
    plan_id = shell_plan(server, "a plan with two shell steps", ["true", "echo done && true"])
    server.call("planning/get", {"planId": plan_id})
    server.call("planning/approve", {"planId": plan_id})
    run_id = server.call("planning/execute", {"planId": plan_id})["runId"]
    if server.wait_for_finish(run_id) != "completed":
        raise SystemExit("the profiled run did not complete")
    server.call("planning/get", {"planId": plan_id})
    page = server.call("planning/list", {"limit": 2})
    if page.get("nextCursor"):
        server.call("planning/list", {"cursor": page["nextCursor"]})


def functions_run(profile, binary):
    """Functions callgrind saw run inside `binary` (hashless), in the order the profile names them."""
    names, current_object = [], None
    with open(profile, errors="replace") as lines:
        for line in lines:
            if line.startswith("ob="):
                current_object = line[3:].strip()
            elif line.startswith("fn=") and current_object == binary:
                name = re.sub(r"'\d+$", "", line[3:].strip())
                if not name.startswith(("0x", "(")):
                    names.append(HASH.sub("17h", name))
    return names


def main():
    binary = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/codelab-planner"))
    with tempfile.TemporaryDirectory() as scratch:
        filled = os.path.join(scratch, "filled")
        os.mkdir(filled)
        seeding = Server(binary, filled)
        for index in range(1000):
            shell_plan(seeding, f"plan {index}", ["true"])
        seeding.close()

        runs = []
        for name, workspace, scenario in [("empty", None, idle), ("filled", filled, idle), ("work", None, work)]:
            if workspace is None:
                workspace = os.path.join(scratch, name)
                os.mkdir(workspace)
            profile = os.path.join(scratch, name + ".callgrind")
            server = Server(binary, workspace, profile_to=profile)
            scenario(server)
            server.close()
            runs.append(functions_run(profile, binary))

    symbols = subprocess.run(["nm", "--defined-only", binary], check=True, capture_output=True, text=True).stdout
    instances = collections.Counter(HASH.sub("17h", line.split()[-1]) for line in symbols.splitlines())
    idle_run = set(runs[0]) | set(runs[1])
    ordered, seen = [], set()
    # Idle code first, then the code of work; within each, functions with one instance before
    # generic ones, whose pattern also takes their instances that did not run.
    for tier in [lambda n: n in idle_run and instances[n] == 1, lambda n: n in idle_run,
                 lambda n: instances[n] == 1, lambda n: True]:
        for name in (name for run in runs for name in run):
            if name not in seen and tier(name):
                seen.add(name)
                ordered.append(name)

    with open(OUTPUT, "w") as output:
        output.write("/* Generated by link/hot-code.py: the functions an idle server runs, first. Used by build.rs\n"
                     "   for release builds. A name ending in 17h* is a Rust symbol without its hash. */\n")
        output.write("SECTIONS\n{\n  .text : {\n")
        for name in ordered:
            pattern = name + "*" if name.endswith("17h") else name
            # LLVM puts a function it deems cold (`#[cold]`, reached only from cold paths) in
            # `.text.unlikely.<name>`.
            output.write(f"    *(.text.{pattern} .text.unlikely.{pattern})\n")
        output.write("  }\n}\nINSERT AFTER .init;\n")
    print(f"{OUTPUT}: {len(ordered)} functions ({len(idle_run)} run while idle)")


if __name__ == "__main__":
    main()
