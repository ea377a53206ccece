#!/usr/bin/env python3
"""Per-user cost of `rlhf serve --model` (docs/personalization.md), dev-only, Python standard library only.

Starts the release server on the loopback address with the demo's SFT model, gives each of 32 users an adapter of
their own (a few choices each, --update-every 5), then measures:
  - adapter size on disk, memory per loaded adapter (bytes of weights, and the server's RSS growth per user),
  - seconds per update (the worker's own timings),
  - replies per second and latency with 1, 8 and 32 users chatting at once (single mode, 32 new tokens, each user
    through their own adapter, for a fixed time per level).

    make release && python3 bench/chat_load.py [--seconds 20] [--model DIR --template FILE]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Tests/CLITests/Fixtures/demo-sft")
ADMIN = "chat-load-bench-admin-token-0123456789abcdef"
PROMPTS = ["I am cold. What should I do?", "What's 7-2 and 5-5?", "My phone is dead. Any advice, please?",
           "I am bored.", "Hi, sorry to bother you. I have a headache.", "Ugh, useless bot. I am hungry."]


def call(port, token, path, body=None, method="POST"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.load(reply)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=FIXTURE)
    parser.add_argument("--template", default=os.path.join(FIXTURE, "transcript.jinja"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/rlhf"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="rlhf-chat-load-")
    log = open(os.path.join(work, "serve.log"), "w+")
    server = subprocess.Popen([args.binary, "serve", "--db", os.path.join(work, "chat.sqlite"), "--port", "0",
                               "--model", args.model, "--chat-template-file", args.template, "--update-every", "5",
                               "--worker-cpu-share", "1"],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RLHF_ADMIN_TOKEN": ADMIN})
    try:
        port = None
        while port is None:
            time.sleep(0.1)
            log.seek(0)
            match = re.search(r"http://127\.0\.0\.1:(\d+)", log.read())
            port = int(match.group(1)) if match else None
        users = [call(port, ADMIN, "/api/users", {"name": f"user {i}"}) for i in range(args.users)]
        rss_start = rss_bytes(server.pid)

        # Five choices each (the longer reply) make each user's first adapter version.
        for user in users:
            for prompt in PROMPTS[:5]:
                turn = call(port, user["token"], "/api/chat", {"messages": [{"role": "user", "content": prompt}]})
                a, b = turn["replies"]
                call(port, user["token"], f"/api/chat/{turn['turn']}/feedback",
                     {"chosen": (a if len(a["text"]) >= len(b["text"]) else b)["id"]})
        while any(call(port, u["token"], f"/api/users/{u['id']}/adapter", method="GET")["version"] == 0 for u in users):
            time.sleep(0.5)
        rss_trained = rss_bytes(server.pid)
        for user in users:  # load every adapter once
            call(port, user["token"], "/api/chat", {"messages": [{"role": "user", "content": "Hi"}], "mode": "single"})
        stats = call(port, ADMIN, "/api/personalization", method="GET")
        rss_loaded = rss_bytes(server.pid)
        disk = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(os.path.join(work, "chat.sqlite.adapters"))
                   for name in names) / len(users)
        updates = [u["seconds"] for u in stats["updates"]]
        print(f"users {len(users)}, adapters loaded {stats['loaded_adapters']}")
        print(f"adapter on disk: {disk / 1024:.1f} KiB per user; weights in memory: {stats['bytes_per_loaded_adapter'] / 1024:.1f} KiB per loaded adapter")
        print(f"server RSS: {rss_start / 2**20:.1f} MiB at the start, {rss_trained / 2**20:.1f} MiB after {len(users)} updates "
              f"(training's buffers), {rss_loaded / 2**20:.1f} MiB with all {len(users)} adapters loaded: "
              f"{(rss_loaded - rss_trained) / len(users) / 1024:.0f} KiB per loaded user")
        print(f"seconds per update (5 events): median {statistics.median(updates):.2f}, max {max(updates):.2f}")

        print("| users at once | replies/s | new tokens/s | median latency (s) | p90 latency (s) |")
        print("|---:|---:|---:|---:|---:|")
        for level in [1, 8, 32]:
            latencies, tokens, lock = [], [0], threading.Lock()
            stop = time.time() + args.seconds
            before = call(port, ADMIN, "/api/personalization", method="GET")["decoding"]

            def chat(user, index):
                n = index
                while time.time() < stop:
                    started = time.time()
                    call(port, user["token"], "/api/chat", {"messages": [{"role": "user", "content": PROMPTS[n % len(PROMPTS)]}],
                                                            "mode": "single", "max_new_tokens": 32})
                    with lock:
                        latencies.append(time.time() - started)
                    n += 1

            threads = [threading.Thread(target=chat, args=(users[i], i)) for i in range(level)]
            began = time.time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.time() - began
            after = call(port, ADMIN, "/api/personalization", method="GET")["decoding"]
            latencies.sort()
            print(f"| {level} | {len(latencies) / elapsed:.1f} | {(after['tokens'] - before['tokens']) / elapsed:.0f} | "
                  f"{statistics.median(latencies):.3f} | {latencies[int(0.9 * (len(latencies) - 1))]:.3f} |")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
