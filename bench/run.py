"""Kelisim's benchmark suite (issue 8): `make bench`, or

    .venv/bin/python -m bench.run [--quick] [--db sqlite|postgresql|both] [--skip-scale]

For each database it creates a fresh temporary instance (KELISIM_INSTANCE, COURSES_DIR, keys),
writes the bench courses (bench/content.py), runs the documented set-up commands
(`flask db upgrade`, `flask courses sync`), creates and logs in learners (bench/prepare.py),
starts gunicorn for the app and for the bare Flask "hello" app (bench/hello.py) with the same
settings, and drives both with wrk: bench/wrk_session.lua for the GET scenarios,
bench/wrk_submit.lua for quiz submissions (each pre-started attempt POSTed once). The HR
scenarios run after
`flask demo seed --learners 100000` when the HR routes exist. It prints one Markdown table and
writes it into bench/results.md (between the "bench:begin/end" markers; the notes below them
are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import content

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
VENV_BIN = Path(sys.executable).parent
RESULTS = BENCH / "results.md"
PROFILES = BENCH / "profiles"
USER_AGENT = "kelisim-bench/1"  # also in bench/prepare.py and the wrk scripts
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

WORKERS = 2
CONNECTIONS = 16
THREADS = 2
GUNICORN_TIMEOUT = 120  # the full CSV export must not be killed by the 30 s default
SCALE_LEARNERS = 100_000
# Quiz submissions: each request uses up one pre-started attempt, so the supply must outlast the
# measured duration at the fastest rate the machine may reach (~700/s seen on SQLite), with margin.
QUIZ_PEAK_RPS = 800
QUIZ_MARGIN = 1.25

TARGETS = {  # issue 8 (and 3, 4, 6)
    "lesson_ratio": 0.20,
    "lesson_p99_ms": 50.0,
    "quiz_ratio": 0.10,
    "hr_dashboard_s": 1.0,
    "hr_report_s": 0.5,
    "csv_s": 10.0,
    "csv_mb": 100.0,
    "cold_start_s": 1.5,
    "sync_s": 5.0,
    "validate_s": 1.0,
}

COMMANDS: list[str] = []


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and tools


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: installing Debian's package (apt-get install -y wrk)")
        install = ["apt-get", "install", "-y", "wrk"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "bench: wrk is not installed. Install Debian's package as root: "
        "`sudo apt-get install -y wrk`, then run `make bench` again."
    )


def run_cmd(
    args: list[str],
    env: dict,
    *,
    input_text: str | None = None,
    timeout: float = 600,
    record: str | None = None,
) -> tuple[float, str]:
    """Run a command; returns (seconds, stdout). Raises with the output when it fails."""
    if record:
        COMMANDS.append(record)
    started = time.perf_counter()
    proc = subprocess.run(
        args,
        env=env,
        cwd=REPO,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return seconds, proc.stdout


def flask(env: dict, *args: str, timeout: float = 600, record: bool = True) -> tuple[float, str]:
    cmd = [str(VENV_BIN / "flask"), "--app", "wsgi", *args]
    return run_cmd(
        cmd, env, timeout=timeout, record=("flask --app wsgi " + " ".join(args)) if record else None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, cookie: str | None = None, timeout: float = 60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.getheader("Set-Cookie"), body


def gunicorn_args(app_spec: str, port: int) -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        str(GUNICORN_TIMEOUT),
        "--log-level",
        "warning",
        app_spec,
    ]


GUNICORN_DISPLAY = (
    f"gunicorn --workers {WORKERS} --worker-class sync --bind 127.0.0.1:PORT "
    f"--timeout {GUNICORN_TIMEOUT}"
)


class Server:
    """A gunicorn master we started (and stop by its pid only)."""

    def __init__(self, app_spec: str, env: dict, logdir: Path):
        self.app_spec, self.env, self.port = app_spec, env, free_port()
        log_path = logdir / f"gunicorn-{app_spec.replace(':', '-')}-{self.port}.log"
        self.logfile = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            gunicorn_args(app_spec, self.port),
            env=env,
            cwd=REPO,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/", cookie: str | None = None, timeout: float = 60) -> float:
        """Poll until `path` answers 200; returns seconds since the process was started."""
        deadline = self.started_at + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app_spec} exited; see {self.logfile.name}")
            try:
                status, _c, _b = http_get(self.port, path, cookie)
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(
            f"gunicorn {self.app_spec} not ready after {timeout} s; see {self.logfile.name}"
        )

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` (the gunicorn workers), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def background_busy(seconds: float = 0.5) -> float:
    """Share of the machine's CPU busy while our servers are idle (other sessions' work)."""

    def sample():
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return values[3] + values[4], sum(values)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- load generators


def run_wrk(
    port: int,
    script: str,
    script_args: list[str],
    *,
    duration: float,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> dict:
    """Run wrk with one of the bench scripts; returns the script's BENCH_JSON line, parsed."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / script),
        f"http://127.0.0.1:{port}",
        "--",
        *script_args,
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=duration + 120, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    return json.loads(line.split(" ", 1)[1])


def wrk_result(data: dict, good: int) -> dict:
    """Rate = `good` answers over wrk's run duration; latencies in ms; errors."""
    seconds = data["duration_us"] / 1e6
    socket_errors = data["connect_errors"] + data["read_errors"] + data["timeouts"]
    return {
        "rps": good / seconds,
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "requests": data["requests"],
        "errors": socket_errors,  # connect, read, timeout
        "status_errors": data["status_errors"],
        "seconds": seconds,
    }


def wrk(
    port: int,
    paths: list[str],
    cookies_file: str = "-",
    *,
    duration: float,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> dict:
    """GET scenarios (bench/wrk_session.lua): non-2xx/3xx answers are not throughput."""
    data = run_wrk(
        port,
        "wrk_session.lua",
        [cookies_file, str(threads), *paths],
        duration=duration,
        connections=connections,
        threads=threads,
    )
    return wrk_result(data, data["requests"] - data["status_errors"])


def write_submissions(path: Path, items: list[dict]) -> None:
    """The request file of bench/wrk_submit.lua: PATH<TAB>COOKIE<TAB>BODY (urlencoded form)."""
    lines = []
    for item in items:
        body = urlencode(item["fields"], doseq=True)
        fields = (item["path"], item["cookie"], body)
        if any(ch in value for value in fields for ch in "\t\r\n"):
            raise ValueError(f"tab or newline in a submission for {item['path']}")
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def refresh_cookies(cookies: list[str], secret: str) -> list[str]:
    """Set `seen_at` to now in each signed session cookie, as the browser would hold it after
    the server's last refresh (the app rewrites the cookie once a minute; wrk cannot keep it)."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    signer_app = Flask("bench-cookies")
    signer_app.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer_app)
    now, fresh = int(time.time()), []
    for cookie in cookies:
        name, value = cookie.split("=", 1)
        data = serializer.loads(value)
        data["seen_at"] = now
        fresh.append(f"{name}={serializer.dumps(data)}")
    return fresh


# ---------------------------------------------------------------- results


@dataclass
class Row:
    scenario: str
    rps: str = "—"
    p50: str = "—"
    p99: str = "—"
    ratio: str = "—"
    met: list[bool] = field(default_factory=list)


def fmt_ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def not_available(scenario: str, why: str) -> Row:
    return Row(scenario, f"not available ({why})")


def load_row(
    name: str,
    result: dict,
    hello_rps: float,
    *,
    ratio_target: float | None = None,
    p99_target: float | None = None,
) -> Row:
    row = Row(name, f"{result['rps']:,.0f}", fmt_ms(result["p50_ms"]), fmt_ms(result["p99_ms"]))
    ratio = result["rps"] / hello_rps if hello_rps else 0.0
    row.ratio = f"{ratio:.1%}"
    if ratio_target is not None:
        row.met.append(ratio >= ratio_target)
        row.ratio += f" (target ≥ {ratio_target:.0%}: {verdict(ratio >= ratio_target)})"
    if p99_target is not None:
        ok = result["p99_ms"] < p99_target and result["requests"] > 0
        row.met.append(ok)
        row.p99 += f" (target < {p99_target:.0f} ms: {verdict(ok)})"
    if not result["requests"]:
        row.scenario += " ⚠ no request completed"
    errors = result.get("errors", 0) + result.get("status_errors", 0)
    if errors:
        row.scenario += f" ⚠ {errors} errors"
    return row


def table(rows: list[Row]) -> str:
    lines = [
        '| scenario | req/s | p50 | p99 | ratio to bare Flask "hello" |',
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.scenario} | {r.rps} | {r.p50} | {r.p99} | {r.ratio} |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- one database round


@dataclass
class Settings:
    quick: bool
    duration: float
    warmup: float
    quiz_users: int
    quiz_courses: int
    skip_scale: bool
    scale_learners: int
    profile: bool = False


class Round:
    """Everything measured on one database (SQLite or PostgreSQL)."""

    def __init__(self, kind: str, settings: Settings, workdir: Path):
        self.kind, self.s = kind, settings
        self.label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
        self.dir = workdir / kind
        self.instance, self.courses = self.dir / "instance", self.dir / "courses"
        self.logs = self.dir / "logs"
        for folder in (self.instance, self.courses, self.logs):
            folder.mkdir(parents=True)
        self.secret = secrets.token_urlsafe(48)
        self.pg_database: str | None = None
        self.env = {
            **os.environ,
            "KELISIM_ENV": "production",
            "KELISIM_INSTANCE": str(self.instance),
            "COURSES_DIR": str(self.courses),
            "SECRET_KEY": self.secret,
            "RECORDS_KEY": secrets.token_urlsafe(48),
            "MEDIA_DIR": str(self.instance / "media"),
            "SIGNING_KEY_PATH": str(self.instance / "signing_key.pem"),
            "BASE_URL": "http://127.0.0.1",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("FLASK_DEBUG", None)
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.servers: list[Server] = []
        self.diagnostics: list[str] = []
        self.busy_values: list[float] = []
        self.starter_path: str | None = None

    # -- set-up
    def create_database(self) -> None:
        if self.kind == "sqlite":
            self.env["DATABASE_URL"] = f"sqlite:///{self.instance / 'kelisim.db'}"
            return
        import psycopg

        self.pg_database = f"kelisim_bench_{os.getpid()}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}"')
            conn.execute(f'CREATE DATABASE "{self.pg_database}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
        self.env["DATABASE_URL"] = f"{base}/{self.pg_database}"

    def drop_database(self) -> None:
        if self.pg_database:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')

    def prepare(self) -> dict:
        content.write_bench_course(self.courses)
        quiz_slugs = [f"bench-quiz-{k:03d}" for k in range(self.s.quiz_courses)]
        for k, slug in enumerate(quiz_slugs):
            content.write_bench_course(self.courses, slug, f"Quiz course {k + 1}", reading=False)
        self.create_database()
        # For --keep: the environment to start the app again on this instance by hand.
        (self.dir / "env.json").write_text(
            json.dumps(
                {k: v for k, v in self.env.items() if k not in os.environ or os.environ[k] != v},
                indent=1,
            )
        )
        flask(self.env, "db", "upgrade")
        seconds, _out = flask(self.env, "courses", "sync")
        self.notes.append(
            f"{self.label}: `courses sync` of the bench library "
            f"({1 + len(quiz_slugs)} courses) took {seconds:.1f} s."
        )
        starter = next(
            (p for p in sorted((REPO / "courses").iterdir()) if (p / "course.yaml").is_file()), None
        )
        if starter is not None:
            flask(self.env, "courses", "sync", str(starter), record=False)
            COMMANDS.append("flask --app wsgi courses sync courses/STARTER   # the starter course")
            self.starter_path = f"/courses/{starter.name}/{first_module(starter)}"
        spec = {
            "course": "bench-course",
            "reading_module": content.READING_MODULE,
            "quiz_module": content.QUIZ_MODULE,
            "learners": CONNECTIONS,
            "quiz_users": self.s.quiz_users,
            "quiz_courses": quiz_slugs,
            "warm": [self.starter_path] if self.starter_path else [],
        }
        spec_file, out_file = self.dir / "spec.json", self.dir / "prepared.json"
        spec_file.write_text(json.dumps(spec))
        run_cmd(
            [sys.executable, "-m", "bench.prepare", "learners", str(spec_file), str(out_file)],
            self.env,
            timeout=1800,
            record=f"python -m bench.prepare learners SPEC OUT   # {CONNECTIONS} learners, "
            f"{self.s.quiz_users} quiz takers x {len(quiz_slugs)} quiz courses",
        )
        prepared = json.loads(out_file.read_text())
        log(
            f"{self.label}: prepared {len(prepared['learners'])} learners and "
            f"{len(prepared['quiz'])} quiz attempts {prepared['timings']}"
        )
        return prepared

    def start(self, app_spec: str, ready_path: str = "/healthz") -> Server:
        server = Server(app_spec, self.env, self.logs)
        self.servers.append(server)
        server.wait_ready(ready_path)
        return server

    # -- scenarios
    def measure(
        self,
        server: Server,
        paths: list[str],
        cookies: list[str],
        name: str = "",
        *,
        connections: int = CONNECTIONS,
        threads: int = THREADS,
    ) -> dict:
        port = server.port
        cookie_file = "-"
        if cookies:
            fresh = refresh_cookies(cookies, self.secret)
            status, set_cookie, _b = http_get(port, paths[0], fresh[0])
            if status != 200:
                raise RuntimeError(f"GET {paths[0]} answered {status}")
            if set_cookie:
                self.notes.append(
                    f"{self.label}: `GET {paths[0]}` rewrites the session cookie "
                    "on every request (Set-Cookie)."
                )
            cookie_file = str(self.dir / "cookies.txt")
            Path(cookie_file).write_text("\n".join(fresh) + "\n")
        if self.s.warmup:
            wrk(
                port,
                paths,
                cookie_file,
                duration=self.s.warmup,
                connections=connections,
                threads=threads,
            )
        busy = background_busy()
        workers = server.workers()
        profilers = self.start_profilers(server, workers, name or paths[0])
        cpu0 = cpu_seconds(workers)
        result = wrk(
            port,
            paths,
            cookie_file,
            duration=self.s.duration,
            connections=connections,
            threads=threads,
        )
        cpu = cpu_seconds(workers) - cpu0
        self.diagnose(name or paths[0], result["requests"], cpu, busy)
        self.finish_profilers(profilers, name or paths[0])
        return result

    def start_profilers(self, server: Server, workers: list[int], name: str) -> list:
        """With --profile: py-spy samples every worker (wall clock, idle included, so waiting
        for a lock or the database shows) while the scenario runs."""
        if not self.s.profile or server.app_spec != "wsgi:app":
            return []
        py_spy = VENV_BIN / "py-spy"
        if not py_spy.exists():
            self.notes.append("--profile: py-spy is not installed (.venv/bin/pip install py-spy).")
            self.s.profile = False
            return []
        PROFILES.mkdir(exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")[:60] or "root"
        procs = []
        for pid in workers:
            out = PROFILES / f"{self.kind}-{slug}-{pid}.txt"
            procs.append(
                (
                    out,
                    subprocess.Popen(
                        [
                            str(py_spy),
                            "record",
                            "--pid",
                            str(pid),
                            "--duration",
                            str(round(self.s.duration)),
                            "--rate",
                            "200",
                            "--idle",
                            "--nonblocking",
                            "--format",
                            "raw",
                            "-o",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
        return procs

    def finish_profilers(self, procs: list, name: str) -> None:
        if not procs:
            return
        files = []
        for out, proc in procs:
            proc.wait(timeout=60)
            if out.exists():
                files.append(out)
        summary = summarise_profile(files)
        if summary:
            self.notes.append(
                f"{self.label} profile of `{name}` ({', '.join(f.name for f in files)}): {summary}"
            )

    def diagnose(self, name: str, requests: int, cpu: float, busy: float) -> None:
        per_request = f"{cpu / requests * 1000:.2f}" if requests else "—"
        self.diagnostics.append(f"| {name} ({self.label}) | {per_request} | {busy:.0%} |")
        self.busy_values.append(busy)

    def run(self) -> None:
        prepared = self.prepare()
        learners = prepared["learners"]
        hello = self.start("bench.hello:app", "/")
        app = self.start("wsgi:app")
        COMMANDS.append(f"{GUNICORN_DISPLAY} wsgi:app   # and bench.hello:app")
        wrk_display = (
            f"wrk -t{THREADS} -c{CONNECTIONS} -d{self.s.duration:.0f}s --timeout 30s -s bench/"
        )
        COMMANDS.append(
            f"{wrk_display}wrk_session.lua http://127.0.0.1:PORT -- COOKIES {THREADS} PATH"
        )
        COMMANDS.append(
            f"{wrk_display}wrk_submit.lua http://127.0.0.1:PORT -- SUBMISSIONS {THREADS}"
            "   # quiz: one pre-started attempt per request"
        )

        log(f"{self.label}: bare hello")
        base = self.measure(hello, ["/"], [], 'bare "hello"')
        self.rows.append(
            Row(
                f'bare Flask "hello" ({self.label} round, wrk)',
                f"{base['rps']:,.0f}",
                fmt_ms(base["p50_ms"]),
                fmt_ms(base["p99_ms"]),
                "100%",
            )
        )
        hello_rps = base["rps"]

        course = "bench-course"
        scenarios = [
            (
                "lesson page: 20 KB module + progress write",
                [f"/courses/{course}/{content.READING_MODULE}"],
                TARGETS["lesson_ratio"],
                TARGETS["lesson_p99_ms"],
            ),
            ("course page", [f"/courses/{course}"], None, None),
            ("dashboard", ["/"], None, None),
        ]
        if self.starter_path:
            scenarios.insert(
                1,
                (
                    f"lesson page: starter course `{self.starter_path}` (en) + progress write",
                    [self.starter_path],
                    TARGETS["lesson_ratio"],
                    TARGETS["lesson_p99_ms"],
                ),
            )
        for name, paths, ratio_target, p99_target in scenarios:
            log(f"{self.label}: {name}")
            result = self.measure(app, paths, learners)
            self.rows.append(
                load_row(
                    f"{name} ({self.label})",
                    result,
                    hello_rps,
                    ratio_target=ratio_target,
                    p99_target=p99_target,
                )
            )

        self.quiz(app, prepared["quiz"], hello_rps)
        self.hr(app)
        self.sync_200()
        for server in (hello, app):
            server.stop()
        self.cold_start(learners)

    def quiz(self, app: Server, items: list[dict], hello_rps: float) -> None:
        """Each pre-started attempt POSTed once through wrk (bench/wrk_submit.lua), with the
        settings of the GET scenarios; the rate counts the 303 answers (a graded submission)."""
        log(f"{self.label}: quiz submission ({len(items)} pre-started attempts)")
        name = "quiz submission"
        cookies = sorted({i["cookie"] for i in items})
        fresh = dict(zip(cookies, refresh_cookies(cookies, self.secret)))
        items = [{**i, "cookie": fresh[i["cookie"]]} for i in items]
        # Warm-up: a few submissions (each attempt is used once), not measured.
        warm, measured = items[: 2 * CONNECTIONS], items[2 * CONNECTIONS :]
        warm_file, measured_file = self.dir / "submissions-warm.txt", self.dir / "submissions.txt"
        write_submissions(warm_file, warm)
        write_submissions(measured_file, measured)
        data = run_wrk(
            app.port,
            "wrk_submit.lua",
            [str(warm_file), str(THREADS)],
            duration=max(1.0, self.s.warmup),
        )
        if data["unexpected"] or data["ok"] == 0:
            self.notes.append(
                f"{self.label}: quiz submission warm-up: {data['ok']} of {len(warm)} answered 303, "
                f"{data['unexpected']} another status (first: {data['first_unexpected']})."
            )
        busy = background_busy()
        workers = app.workers()
        profilers = self.start_profilers(app, workers, name)
        cpu0 = cpu_seconds(workers)
        data = run_wrk(
            app.port,
            "wrk_submit.lua",
            [str(measured_file), str(THREADS)],
            duration=self.s.duration,
        )
        self.diagnose(name, data["requests"], cpu_seconds(workers) - cpu0, busy)
        self.finish_profilers(profilers, name)
        result = wrk_result(data, data["ok"])
        if data["unexpected"]:
            # Not 303: a re-rendered form (200), a redirect elsewhere, or an error (wrk counts
            # only statuses > 399 itself); flagged in the row as errors.
            result["status_errors"] = max(result["status_errors"], data["unexpected"])
            self.notes.append(
                f"{self.label}: quiz submission: {data['unexpected']} of {data['requests']} "
                f"answers were not 303 (first: {data['first_unexpected']})."
            )
        if result["errors"] or data["write_errors"]:
            self.notes.append(
                f"{self.label}: quiz submission: socket errors or timeouts "
                f"(connect {data['connect_errors']}, read {data['read_errors']}, "
                f"write {data['write_errors']}, timeout {data['timeouts']})."
            )
        if data["sent"] >= data["supply"]:
            self.notes.append(
                f"{self.label}: ⚠ the {data['supply']} pre-started attempts ran out before the "
                f"{result['seconds']:.0f} s of the run ended: the quiz rate "
                f"({result['rps']:,.0f}/s) is over the whole duration and understated "
                "(raise QUIZ_PEAK_RPS in bench/run.py)."
            )
            result["exhausted"] = True
        row = load_row(
            f"quiz submission, 30 questions graded and stored ({self.label})",
            result,
            hello_rps,
            ratio_target=TARGETS["quiz_ratio"],
        )
        if result.get("exhausted"):
            row.scenario += " ⚠ attempts ran out"
        self.rows.append(row)

    def hr(self, app: Server) -> None:
        scale = f"{self.s.scale_learners // 1000}k learners"
        names = [
            f"HR dashboard `/hr`, {scale} ({self.label}, 1 connection, sequential)",
            f"HR report, first page `/hr/report`, {scale} ({self.label}, 1 connection, sequential)",
            f"full CSV export, {scale} ({self.label}): time; server peak RSS growth",
        ]
        if self.s.skip_scale:
            self.rows += [Row(n, "skipped (--skip-scale)") for n in names]
            return
        _s, out = run_cmd([sys.executable, "-m", "bench.prepare", "probe"], self.env)
        probe = json.loads(out.strip().splitlines()[-1])
        if not (probe["hr"] and probe["scale_seed"]):
            why = "no /hr route yet" if not probe["hr"] else "no `demo seed --learners` yet"
            self.rows += [not_available(n, why) for n in names]
            log(f"{self.label}: HR scenarios not available ({why})")
            return
        log(f"{self.label}: seeding {self.s.scale_learners} learners (flask demo seed --learners)")
        seconds, _out = flask(
            self.env, "demo", "seed", "--learners", str(self.s.scale_learners), timeout=3600
        )
        self.notes.append(
            f"{self.label}: `flask demo seed --learners {self.s.scale_learners}` "
            f"took {seconds:.0f} s."
        )
        hr_file = self.dir / "hr.json"
        run_cmd(
            [sys.executable, "-m", "bench.prepare", "hr", str(hr_file)],
            self.env,
            record="python -m bench.prepare hr OUT   # an HR user at the top unit, logged in",
        )
        hr = json.loads(hr_file.read_text())
        self.notes.append(
            f"{self.label}: HR user at `{hr['unit']}` ({hr['people']:,} people in scope)."
        )
        cookie = [hr["cookie"]]
        for name, path, target, available in (
            (names[0], "/hr", TARGETS["hr_dashboard_s"], probe["hr"]),
            (names[1], "/hr/report", TARGETS["hr_report_s"], probe["hr_report"]),
        ):
            if not available:
                self.rows.append(not_available(name, f"no {path} route yet"))
                continue
            log(f"{self.label}: {name}")
            try:
                result = self.measure_single(app, path, cookie)
            except RuntimeError as error:
                self.rows.append(not_available(name, str(error)[:80]))
                continue
            row = Row(
                name,
                f"{result['rps']:,.1f}",
                fmt_ms(result["p50_ms"]),
                f"max {fmt_ms(result['p99_ms'])} of {result['requests']}",
            )
            ok = result["p50_ms"] / 1000 < target and not result["errors"]
            row.p50 += f" (target < {target * 1000:.0f} ms: {verdict(ok)})"
            row.met.append(ok)
            self.rows.append(row)
        if not probe["hr_csv"]:
            self.rows.append(not_available(names[2], "no /hr/report.csv route yet"))
        else:
            self.rows.append(self.csv_export(app, names[2], hr["cookie"]))

    def measure_single(self, server: Server, path: str, cookies: list[str]) -> dict:
        """One connection, requests one after another (the HR targets are response times; a
        page of a second or more would only queue under 16 connections). At least 3 requests,
        then until the scenario's duration is used up."""
        cookie = refresh_cookies(cookies, self.secret)[0]
        status, _c, _b = http_get(server.port, path, cookie, timeout=300)  # warm-up
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        busy = background_busy()
        workers = server.workers()
        profilers = self.start_profilers(server, workers, f"HR {path}")
        cpu0 = cpu_seconds(workers)
        latencies, errors, started = [], 0, time.perf_counter()
        while len(latencies) < 3 or (
            time.perf_counter() - started < self.s.duration and len(latencies) < 200
        ):
            t0 = time.perf_counter()
            status, _c, _b = http_get(server.port, path, cookie, timeout=300)
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += status != 200
        elapsed = time.perf_counter() - started
        self.diagnose(f"HR {path}", len(latencies), cpu_seconds(workers) - cpu0, busy)
        self.finish_profilers(profilers, f"HR {path}")
        latencies.sort()
        return {
            "rps": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 50),
            "p99_ms": latencies[-1],
            "requests": len(latencies),
            "errors": errors,
        }

    def csv_export(self, app: Server, name: str, cookie: str) -> Row:
        log(f"{self.label}: {name}")
        cookie = refresh_cookies([cookie], self.secret)[0]
        workers = app.workers()
        cleared = True
        for pid in workers:
            try:  # reset VmHWM (peak RSS) to the current RSS
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                cleared = False
        before = {pid: proc_status_kb(pid, "VmRSS") for pid in workers}
        peak = dict(before)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for pid in workers:
                    try:
                        peak[pid] = max(peak[pid], proc_status_kb(pid, "VmRSS"))
                    except OSError:
                        pass
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=300)
        conn.request("GET", "/hr/report.csv", headers={"Cookie": cookie, "User-Agent": USER_AGENT})
        response = conn.getresponse()
        size = lines = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        conn.close()
        done.set()
        sampler.join()
        growth_kb = 0
        for pid in workers:
            try:
                hwm = proc_status_kb(pid, "VmHWM") if cleared else 0
            except OSError:
                hwm = 0
            growth_kb = max(growth_kb, max(hwm, peak[pid]) - before[pid])
        growth_mb = growth_kb / 1024
        if response.status != 200:
            return not_available(name, f"GET /hr/report.csv answered {response.status}")
        row = Row(name)
        time_ok, mem_ok = seconds < TARGETS["csv_s"], growth_mb < TARGETS["csv_mb"]
        row.p50 = f"{fmt_s(seconds)} for {lines - 1:,} rows, {size / 1e6:.0f} MB (target < 10 s: {verdict(time_ok)})"
        row.p99 = f"peak RSS +{growth_mb:.1f} MB (target < 100 MB: {verdict(mem_ok)})"
        row.met += [time_ok, mem_ok]
        self.notes.append(
            f"{self.label}: CSV export peak RSS growth measured on the gunicorn "
            f"workers via /proc/<pid>/status ({'VmHWM after clear_refs, and ' if cleared else ''}"
            f"VmRSS sampled every 10 ms), baseline = VmRSS before the request."
        )
        return row

    def sync_200(self) -> None:
        library = self.dir / "sync-library"
        count = content.write_sync_library(library)
        log(f"{self.label}: courses sync of {count} modules")
        seconds, _out = flask(self.env, "courses", "sync", str(library), record=False)
        again, _out = flask(self.env, "courses", "sync", str(library), record=False)
        COMMANDS.append(
            f"flask --app wsgi courses sync SYNC_LIBRARY   # {count} modules, bench/content.py"
        )
        ok = seconds < TARGETS["sync_s"]
        row = Row(
            f"`flask courses sync` of {count} modules, new revisions ({self.label})",
            p50=f"{fmt_s(seconds)} (target < 5 s: {verdict(ok)})",
            met=[ok],
        )
        self.rows.append(row)
        self.notes.append(
            f"{self.label}: the same sync again (nothing changed) took {again:.2f} s; "
            "both include starting the CLI process."
        )

    def cold_start(self, learners: list[str]) -> None:
        if self.starter_path is None:
            self.rows.append(not_available("cold start", "no starter course in courses/"))
            return
        path = self.starter_path
        times, hello_times = [], []
        for i in range(3):
            cookie = refresh_cookies([learners[i]], self.secret)[0]
            server = Server("wsgi:app", self.env, self.logs)
            try:
                times.append(server.wait_ready(path, cookie))
            finally:
                server.stop()
            server = Server("bench.hello:app", self.env, self.logs)
            try:
                hello_times.append(server.wait_ready("/"))
            finally:
                server.stop()
        median = statistics.median(times)
        ok = median < TARGETS["cold_start_s"]
        self.rows.append(
            Row(
                f"cold start: gunicorn started → first 200 of `{path}` for a learner ({self.label}, "
                f"median of 3; bare hello {statistics.median(hello_times):.2f} s)",
                p50=f"{fmt_s(median)} (target < 1.5 s: {verdict(ok)})",
                p99=f"max {fmt_s(max(times))}",
                met=[ok],
            )
        )

    def close(self, keep_database: bool = False) -> None:
        for server in self.servers:
            try:
                server.stop()
            except Exception as error:  # noqa: BLE001 - best effort at exit
                log(f"could not stop gunicorn {server.proc.pid}: {error}")
        if keep_database and self.pg_database:
            log(f"kept the PostgreSQL database {self.pg_database} (--keep): drop it when done")
            return
        try:
            self.drop_database()
        except Exception as error:  # noqa: BLE001
            log(f"could not drop {self.pg_database}: {error}")


def summarise_profile(files: list[Path], top: int = 6) -> str:
    """The wall-clock share of the busiest application frames and of waiting on the database."""
    from collections import Counter

    inclusive: Counter = Counter()
    waiting = total = 0
    for path in files:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            stack, count = line.rsplit(" ", 1)
            frames, n = stack.split(";"), int(count)
            total += n
            leaf = frames[-1]
            if (
                "do_execute" in leaf
                or "psycopg" in leaf
                or "_on_begin" in leaf
                or "do_commit" in leaf
            ):
                waiting += n
            for frame in {f for f in frames if "learning/" in f or ".html" in f}:
                match = re.match(r"^(.*) \((.*)\)$", frame)
                label = f"{match.group(1)} {match.group(2).split('/')[-1]}" if match else frame
                inclusive[label] += n
    if not total:
        return ""
    parts = [f"{n / total:.0%} {frame}" for frame, n in inclusive.most_common(top)]
    return f"{waiting / total:.0%} of worker wall time inside database calls; " + "; ".join(parts)


def first_module(course_dir: Path) -> str:
    import yaml

    data = yaml.safe_load((course_dir / "course.yaml").read_text()) or {}
    if data.get("modules"):
        return data["modules"][0]
    names = sorted(p.name for p in course_dir.glob("*.md") if p.name != "SOURCES.md")
    return names[0].split(".", 1)[0]


def validate_starter(env: dict) -> Row:
    seconds, out = run_cmd(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "courses", "validate", str(REPO / "courses")],
        env,
        record="flask --app wsgi courses validate courses/",
    )
    ok = seconds < TARGETS["validate_s"]
    return Row(
        f"`flask courses validate` of the starter course ({out.strip().splitlines()[-1]})",
        p50=f"{fmt_s(seconds)} (target < 1 s: {verdict(ok)})",
        met=[ok],
    )


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


# ---------------------------------------------------------------- report


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(
        ["wrk", "-v"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    gunicorn_version = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cores": subprocess.run(
            ["nproc"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "cpu": cpu,
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "python": platform.python_version(),
        "wrk": " ".join(wrk_version[0].split()[:2]) if wrk_version else "wrk",
        "gunicorn": gunicorn_version,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


DIAGNOSTICS_HEADER = [
    (
        "| request | server CPU per request, ms (gunicorn workers, /proc) | machine busy "
        "with other work just before |"
    ),
    "|---|---|---|",
]


def render(
    rows: list[Row],
    notes: list[str],
    info: dict,
    settings: Settings,
    argv: list[str],
    diagnostics: list[str],
) -> str:
    missed = [r.scenario for r in rows if r.met and not all(r.met)]
    lines = [
        f"## Latest run: {info['date']}{' (--quick)' if settings.quick else ''}",
        "",
        (
            f"Machine: {info['cores']} cores (`nproc`), {info['cpu']}, {info['memory']}; Python "
            f"{info['python']}, {info['gunicorn']}, {info['wrk']}."
        ),
        (
            f"Command: `{' '.join(['python -m bench.run', *argv])}` (started then) — {settings.duration:.0f} s per "
            f"scenario after a {settings.warmup:.0f} s warm-up, {CONNECTIONS} connections, {THREADS} wrk "
            f"threads; gunicorn: {WORKERS} sync workers."
        ),
        "",
        table(rows),
        "",
        f"Targets missed: {', '.join(missed) if missed else 'none'}.",
        "",
        (
            "Diagnostics (CPU cost does not depend on other load; throughput does, so the machine's "
            "load from other processes is shown):"
        ),
        "",
        *DIAGNOSTICS_HEADER,
        *diagnostics,
        "",
        "Notes of this run:",
        "",
        *[f"- {n}" for n in notes],
        "",
        "Commands run (PORT, COOKIES, SUBMISSIONS, SPEC and OUT are temporary):",
        "",
        "```",
        *dict.fromkeys(COMMANDS),
        "```",
    ]
    return "\n".join(lines)


BEGIN, END = "<!-- bench:begin (written by python -m bench.run) -->", "<!-- bench:end -->"


def write_results(block: str) -> None:
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else f"# Kelisim benchmark results\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{block}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{block}\n{END}\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="5 s per scenario, a smaller quiz pool"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--skip-scale", action="store_true", help="skip the 100k-learner HR scenarios"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per scenario (default 10, --quick 5)"
    )
    parser.add_argument(
        "--learners", type=int, default=SCALE_LEARNERS, help="learners of the HR scale seed"
    )
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folders (and the PostgreSQL database)")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the machine to be idle (other work < 25%%)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the app's workers with py-spy during each scenario (bench/profiles/)",
    )
    args = parser.parse_args(argv)
    duration = args.duration or (5.0 if args.quick else 10.0)
    # One open attempt per learner and quiz: takers x one-quiz courses attempts, enough for the
    # measured run at QUIZ_PEAK_RPS with QUIZ_MARGIN, plus the warm-up's 2 per connection. The
    # number of quiz courses stays that of a large library (each worker keeps the grading plans
    # of QUIZ_PLAN_CACHE_SIZE quiz modules, learning/quizzes/services.py): more takers, not more
    # courses, make the supply; a library of hundreds of one-quiz courses would measure the
    # plan cache missing on every submission.
    quiz_courses = 48 if args.quick else 96
    quiz_attempts = math.ceil(duration * QUIZ_PEAK_RPS * QUIZ_MARGIN) + 2 * CONNECTIONS
    settings = Settings(
        quick=args.quick,
        duration=duration,
        warmup=1.0 if args.quick else 2.0,
        quiz_users=math.ceil(quiz_attempts / quiz_courses),
        quiz_courses=quiz_courses,
        skip_scale=args.skip_scale,
        scale_learners=args.learners,
        profile=args.profile,
    )
    # A plain `kill` still stops the servers and drops the database (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    ensure_wrk()
    # What a deployment has (and `make bench` does first): bytecode for the app, so cold start
    # and CLI timings do not include compiling learning/ where PYTHONDONTWRITEBYTECODE is set.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "learning", "config.py", "wsgi.py"],
                   cwd=REPO, check=True)
    if args.wait_idle:
        deadline = time.monotonic() + args.wait_idle
        while (busy := background_busy(2.0)) > 0.25 and time.monotonic() < deadline:
            log(f"machine {busy:.0%} busy with other work; waiting (--wait-idle)")
            time.sleep(8)
    if args.profile and PROFILES.is_dir():
        for old in PROFILES.glob("*.txt"):
            old.unlink()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    notes: list[str] = []
    if "postgresql" in kinds and not postgres_available():
        if args.db == "postgresql":
            sys.exit(
                f"bench: PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (set BENCH_POSTGRES_URL)."
            )
        kinds.remove("postgresql")
        notes.append(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: only SQLite was measured.")
    info = machine()
    workdir = Path(tempfile.mkdtemp(prefix="kelisim-bench-"))
    log(f"working in {workdir}")
    rows: list[Row] = []
    diagnostics: list[str] = []
    busy_values: list[float] = []
    try:
        for kind in kinds:
            current = Round(kind, settings, workdir)
            try:
                current.run()
            except Exception as error:  # noqa: BLE001 - report it and go on with the next database
                import traceback

                traceback.print_exc()
                first = (str(error).strip().splitlines() or [repr(error)])[0][:160]
                current.rows.append(
                    Row(f"{current.label} round", f"**failed**: {first}", met=[False])
                )
                current.notes.append(
                    f"{current.label}: the round stopped with an error (traceback "
                    "on stderr); the rows above it were measured."
                )
            finally:
                current.close(keep_database=args.keep)
            rows += current.rows
            notes += current.notes
            diagnostics += current.diagnostics
            busy_values += current.busy_values
        validate_env = {
            **os.environ,
            "KELISIM_INSTANCE": str(workdir / "validate"),
            "DATABASE_URL": f"sqlite:///{workdir / 'validate' / 'kelisim.db'}",
        }
        rows.append(validate_starter(validate_env))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if busy_values and statistics.median(busy_values) > 0.25:
        notes.insert(
            0,
            f"⚠ The machine was busy with other work during this run (median "
            f"{statistics.median(busy_values):.0%} of its CPU just before the scenarios): "
            "throughput, latency and ratios are lower and noisier than on an idle "
            "machine; the CPU cost per request (diagnostics) is the reliable figure.",
        )
    block = render(rows, notes, info, settings, argv, diagnostics)
    print(table(rows))
    print()
    print("\n".join(DIAGNOSTICS_HEADER + diagnostics))
    print()
    print("\n".join(f"- {n}" for n in notes))
    write_results(block)
    log(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
