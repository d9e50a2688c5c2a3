# A process that looks like a JVM ready for attach, for the security tests
# (t07NN-sec-*): it maps the file given as argument (a .../libjvm.so) and
# catches SIGQUIT, printing "quit" for each one, as HotSpot would wake its
# attach listener. It prints "fake-jvm: pid N ready", then waits.
import mmap
import os
import signal
import sys
import time


def on_quit(sig, frame):
    print("quit", flush=True)


signal.signal(signal.SIGQUIT, on_quit)
with open(sys.argv[1], "rb") as f:
    lib = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
print("fake-jvm: pid %d ready" % os.getpid(), flush=True)
end = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 120)
while time.monotonic() < end:
    time.sleep(0.2)
