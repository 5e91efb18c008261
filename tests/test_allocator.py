"""keep_freed_memory: a big tensor allocated again reuses pages instead of faulting in new ones."""

import platform
import subprocess
import sys

import pytest

# In a child process, so that the test process's malloc is not the one measured: allocate,
# fill and free a 40 MiB tensor (above malloc's largest mmap threshold) 16 times, counting
# each time's page faults. With it, the first few may still fault (Python's own small blocks
# split the freed space) until freed blocks fit; from then on none does.
CHILD = """
import resource, sys, torch
from kungfu_rl.runtime.allocator import keep_freed_memory
torch.set_num_threads(1)
print(keep_freed_memory() if sys.argv[1] == "on" else False)
for _ in range(16):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(10 * 2**20)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> tuple[str, list[int]]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], [int(n) for n in out[1:]]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_freed_big_blocks_are_reused_without_page_faults():
    applied, faults_on = page_faults("on")
    _, faults_off = page_faults("off")
    assert applied == "True"
    # 40 MiB is 10,240 pages: without it, every allocation faults each of them in again
    assert min(faults_off) > 5000, faults_off
    assert max(faults_on[-6:]) < 100, faults_on
