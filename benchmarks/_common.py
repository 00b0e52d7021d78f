"""What the benchmark scripts share: the device's name, the file-name slug of it, and waiting for the device."""
import platform, re

import torch


def device_name(dev) -> str:
    "The accelerator's name, or the CPU model and the number of torch threads."
    if dev.type == 'cuda': return torch.cuda.get_device_name(dev)
    cpu = platform.processor() or platform.machine()
    try: cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): pass
    return f"CPU {cpu}, {torch.get_num_threads()} thread(s)"


def slug(name: str) -> str:
    "A device name as it appears in result file names: lower case, runs of other characters as '-', at most 60 characters."
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')[:60]


def sync(dev):
    "Wait for the device's queued work (CUDA); nothing on CPU."
    if dev.type == 'cuda': torch.cuda.synchronize(dev)
