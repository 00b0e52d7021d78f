import os
# Keep tests reproducible and light on the 2-core machines: one intra-op thread per worker.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
