"""Worker programs the procd tests run as real processes.

Run as ``python workers.py MODE [ARGS]``.  Every mode prints what the test
needs (pids, "ready"/"done" markers) on stdout, one item per line, flushed.
"""

import os
import sys
import time


def say(*items):
    sys.stdout.write(" ".join(str(i) for i in items) + "\n")
    sys.stdout.flush()


def burn(seconds):
    """Burn ``seconds`` of CPU time (user+system) of this process."""
    t0 = time.process_time()
    x = 0
    while time.process_time() - t0 < seconds:
        for i in range(10000):
            x += i
    return x


def sleep_forever():
    while True:
        time.sleep(60)


def daemonize(body):
    """Double fork: the grandchild (new session, parent exits) runs body().
    Returns the grandchild's pid in the original process."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setsid()
        gpid = os.fork()
        if gpid == 0:
            os.close(w)
            try:
                body()
            finally:
                os._exit(0)
        os.write(w, f"{gpid}\n".encode())
        os._exit(0)
    os.close(w)
    gpid = int(os.read(r, 64).decode())
    os.close(r)
    os.waitpid(pid, 0)  # reap the intermediate: the grandchild is now an orphan
    return gpid


def main():
    mode = sys.argv[1]
    if mode == "sleep":
        say("ready")
        sleep_forever()
    elif mode == "alloc":
        # after "go", touch N MiB of memory
        say("ready")
        sys.stdin.readline()
        block = bytearray(int(sys.argv[2]) * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        say("allocated")
        sleep_forever()
    elif mode == "sleep_as":
        # drop to another uid after the interpreter has started
        os.setgroups([])
        os.setgid(int(sys.argv[2]))
        os.setuid(int(sys.argv[2]))
        say("ready")
        sleep_forever()
    elif mode == "doublefork":
        # wait for "go", then leave a daemonized grandchild behind
        say("ready")
        sys.stdin.readline()
        gpid = daemonize(sleep_forever)
        say(gpid)
        sleep_forever()
    elif mode == "doublefork_burn":
        # wait for "go"; a daemonized grandchild burns CPU and exits
        seconds = float(sys.argv[2])
        say("ready")
        sys.stdin.readline()
        gpid = daemonize(lambda: burn(seconds))
        say(gpid)
        sleep_forever()
    elif mode == "spin":
        # root and one child both spin forever
        if os.fork() == 0:
            while True:
                burn(1)
        say("ready")
        while True:
            burn(1)
    elif mode == "children_burn":
        # after "go": N children each burn S seconds and exit; we reap them
        n, seconds = int(sys.argv[2]), float(sys.argv[3])
        say("ready")
        sys.stdin.readline()
        kids = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                burn(seconds)
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        say("done")
        sleep_forever()
    elif mode == "tree":
        # root -> child -> grandchild, all sleeping; prints "child grandchild"
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(r)
            gc = os.fork()
            if gc == 0:
                sleep_forever()
            os.write(w, f"{gc}\n".encode())
            sleep_forever()
        os.close(w)
        gc = int(os.read(r, 64).decode())
        say(child, gc)
        sleep_forever()
    elif mode == "forkbomb":
        # keep forking short-lived sleepers as fast as possible (bounded)
        say("ready")
        kids = 0
        while kids < 2000:
            pid = os.fork()
            if pid == 0:
                if os.fork() == 0:
                    time.sleep(30)
                os._exit(0)
            os.waitpid(pid, 0)
            kids += 1
        sleep_forever()
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
