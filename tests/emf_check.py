"""Checks the CloudWatch Embedded Metric Format lines in a log file (the functions' stdout
during the smoke test) against the format's specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

    python3 tests/emf_check.py LOG FUNCTION...

Every line that parses as a JSON object with an `_aws` member must be valid, and each named
function (the `Function` dimension) must have written at least one. Exit status 1 otherwise.
"""
import json
import sys


def problems(line):
    aws = line.get("_aws")
    if not isinstance(aws, dict):
        return ["_aws is not an object"]
    out = []
    ts = aws.get("Timestamp")
    if not isinstance(ts, int) or ts <= 0:
        out.append("Timestamp is not epoch milliseconds")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        return out + ["CloudWatchMetrics is not an array"]
    for d in directives:
        ns = d.get("Namespace")
        if not isinstance(ns, str) or not 1 <= len(ns) <= 255:
            out.append("Namespace")
        for dims in d.get("Dimensions", None) or []:
            if not isinstance(dims, list) or len(dims) > 30:
                out.append(f"dimension set {dims}")
                continue
            for name in dims:
                if not isinstance(line.get(name), str):
                    out.append(f"dimension {name} is not a string member")
        if not isinstance(d.get("Dimensions"), list):
            out.append("Dimensions is not an array")
        metrics = d.get("Metrics")
        if not isinstance(metrics, list) or len(metrics) > 100:
            out.append("Metrics is not an array of at most 100")
            continue
        for m in metrics:
            name = m.get("Name")
            value = line.get(name)
            numbers = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
                isinstance(value, list) and 0 < len(value) <= 100
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))
            if not isinstance(name, str) or not numbers:
                out.append(f"metric {name} has no number or list of numbers")
    return out


def main(path, functions):
    seen, bad, count = set(), 0, 0
    for raw in open(path, errors="replace"):
        start = raw.find("{")
        if start < 0 or '"_aws"' not in raw:
            continue
        try:
            line = json.loads(raw[start:])
        except ValueError:
            continue
        if not isinstance(line, dict) or "_aws" not in line:
            continue
        count += 1
        found = problems(line)
        if found:
            bad += 1
            print(f"FAIL emf: {found}: {raw.strip()[:300]}")
        seen.add(line.get("Function", ""))
    missing = [f for f in functions if not any(f in s for s in seen)]
    for f in missing:
        print(f"FAIL emf: no line from function {f} (seen: {sorted(seen)})")
    print(f"emf: {count} lines, {bad} invalid, functions {sorted(seen)}")
    return 1 if bad or missing or not count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
