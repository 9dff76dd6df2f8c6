"""The serving benchmark's pure helpers: reading wrk's report, judging the targets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from serve_report import Measurement, judge, table, verdict_lines  # noqa: E402
from wrk_output import WrkOutputError, WrkResult, parse_wrk  # noqa: E402

CLEAN = """\
Running 3s test @ http://127.0.0.1:18555/invocations
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   153.58ms   58.47ms 350.82ms   70.97%
    Req/Sec    26.09     12.72    60.00     56.14%
  Latency Distribution
     50%  138.56ms
     75%  187.56ms
     90%  240.01ms
     99%    1.05s
  153 requests in 3.02s, 21.67KB read
Requests/sec:     50.66
Transfer/sec:      7.17KB
"""

WITH_ERRORS = """\
Running 10s test @ http://127.0.0.1:9000/invocations
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  101.00us   5.00ms   90.00%
    Req/Sec    38.21k     1.20k   40.00k    80.00%
  Latency Distribution
     50%  790.00us
     75%  850.00us
     90%  920.00us
     99%    1.20ms
  380123 requests in 10.00s, 50.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:  38012.30
Transfer/sec:      5.00MB
"""


def test_parse_clean_report_converts_every_unit_to_ms() -> None:
    result = parse_wrk(CLEAN)
    assert (result.requests, result.seconds, result.requests_per_s) == (153, 3.02, 50.66)
    assert result.latency_ms == {50: 138.56, 75: 187.56, 90: 240.01, 99: 1050.0}
    assert result.errors == 0
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}


def test_parse_counts_non_2xx_and_socket_errors() -> None:
    result = parse_wrk(WITH_ERRORS)
    assert result.latency_ms[50] == pytest.approx(0.79)
    assert result.latency_ms[99] == pytest.approx(1.2)
    assert result.non_2xx == 17
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 1, "timeout": 2}
    assert result.errors == 23
    assert result.to_dict()["latency_ms"] == {"p50": 0.79, "p75": 0.85, "p90": 0.92, "p99": 1.2}


def test_parse_names_the_missing_line() -> None:
    with pytest.raises(WrkOutputError, match="Requests/sec"):
        parse_wrk(CLEAN.replace("Requests/sec:     50.66\n", ""))
    without_distribution = "\n".join(line for line in CLEAN.splitlines() if "%  " not in line)
    with pytest.raises(WrkOutputError, match="--latency"):
        parse_wrk(without_distribution)
    with pytest.raises(WrkOutputError, match="requests in"):
        parse_wrk("unable to connect to 127.0.0.1:9 Connection refused\n")


def measurement(server: str, connections: int, rate: float, p99: float) -> Measurement:
    latency = {50: p99 / 4, 75: p99 / 3, 90: p99 / 2, 99: p99}
    wrk = WrkResult(int(rate * 10), 10.0, rate, latency)
    return Measurement(server, connections, wrk, server_cpu_s=rate * 0.01, wrk_cpu_s=0.5)


def test_judge_compares_each_server_of_ours_with_mlflow_at_the_same_load() -> None:
    measurements = [
        measurement("mlflow", 8, 50.0, 500.0),
        measurement("mlflow", 32, 40.0, 1000.0),
        measurement("ours", 8, 300.0, 90.0),  # 6 x, 0.18: both met
        measurement("ours", 32, 300.0, 250.0),  # 7.5 x, 0.25: both missed
        measurement("ours-unbatched", 8, 200.0, 150.0),
    ]
    verdicts = {(v["server"], v["metric"], v["connections"]): v for v in judge(measurements)}
    assert set(verdicts) == {
        ("ours", "throughput", 8),
        ("ours", "throughput", 32),
        ("ours", "p99", 8),
        ("ours", "p99", 32),
        ("ours-unbatched", "throughput", 8),
        ("ours-unbatched", "p99", 8),
    }
    met = {key: v["met"] for key, v in verdicts.items()}
    assert met[("ours", "throughput", 8)] and met[("ours", "p99", 8)]
    assert not met[("ours", "throughput", 32)] and not met[("ours", "p99", 32)]
    assert verdicts[("ours", "throughput", 32)]["ratio"] == pytest.approx(7.5)
    assert not met[("ours-unbatched", "throughput", 8)]
    lines = verdict_lines(judge(measurements))
    assert sum("NOT met" in line for line in lines) == 4
    assert any("6.00 x: met" in line for line in lines)
    assert any("0.180 of mlflow's: met" in line for line in lines)


def test_judge_needs_mlflow_and_table_has_a_row_per_server() -> None:
    only_ours = [measurement("ours", 8, 300.0, 90.0)]
    assert judge(only_ours) == []
    rows = table([measurement("mlflow", 8, 50.0, 500.0), *only_ours], 8).splitlines()
    assert [row.split()[0] for row in rows] == ["server", "mlflow", "ours"]
    assert rows[1].split()[1:6] == ["50.0", "125.00", "250.00", "500.00", "0"]
    assert rows[1].split()[6:] == ["1.000", "1.000"]  # 0.5 s of CPU (server, wrk) / 500 requests
