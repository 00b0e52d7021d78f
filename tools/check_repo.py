"""Repository checks run first by `make test`: the package matches the notebooks, the notebooks are clean,
and README.md is current. Each check runs the real command and fails if it changed anything."""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def snapshot(folder: Path, pattern: str) -> dict:
    return {p.relative_to(ROOT).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob(pattern)) if "_proc" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def changed(before: dict, after: dict) -> list:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def run_and_compare(cmd: str, folder: Path, pattern: str, advice: str) -> list:
    before = snapshot(folder, pattern)
    res = subprocess.run([str(BIN / cmd)], cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        return [f"`{cmd}` failed (exit {res.returncode}):\n{res.stdout}{res.stderr}"]
    diff = changed(before, snapshot(folder, pattern))
    return [f"`{cmd}` changed {len(diff)} file(s): {', '.join(diff[:10])}. {advice}"] if diff else []


def main() -> int:
    problems = []
    problems += run_and_compare("nbdev_export", ROOT / "mcr_nb", "*.py",
        "mcr_nb/ was out of step with nbs/: run `nbdev_export` (done now; review and commit mcr_nb/).")
    problems += run_and_compare("nbdev_clean", ROOT / "nbs", "*.ipynb",
        "The notebooks were not clean: run `nbdev_clean` (done now; review and commit nbs/).")
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme.py"), "--check"], capture_output=True, text=True)
    if res.returncode != 0: problems.append(res.stdout.strip() or res.stderr.strip())
    for p in problems: print("FAIL:", p)
    if not problems: print("repository checks passed: mcr_nb/ matches nbs/, notebooks clean, README.md current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
