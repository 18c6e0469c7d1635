#!/usr/bin/env python3
"""infra/fuzz/summarize.py — what one schemathesis run (infra/fuzz.sh) sent, got and found, from its NDJSON report.

    summarize.py --openapi openapi.json --ndjson RUN.ndjson... [--console SCHEMATHESIS_OUTPUT.txt...] > summary.md

Schemathesis prints one failure per operation and check; this lists every distinct one, grouped by operation, check
and cause (status, error code, the fields a validation error names, the schema path of a response violation), with
how often it happened, in which phases, and a curl command that reproduces the first instance. Then requests and
statuses per operation (which operations mostly got 404, any 429: the harness's rate-limit plan failed), and how
often each operation refused a case schemathesis generated as valid (positive mode) and why — where the document is
looser than the API. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import re
import shlex
import sys

Key = tuple


def decode(content: dict | None) -> str:
    if not content:
        return ""
    if "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return content.get("string", "")


def curl(request: dict) -> str:
    parts = ["curl", "-sS", "-i", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        for value in values:
            parts += ["-H", f"{name}: {value}"]
    body = decode(request.get("body"))
    if body:
        parts += ["--data-binary", body]
    parts.append(request["uri"])
    return " ".join(shlex.quote(p) for p in parts)


def error_of(text: str) -> tuple[str, str, tuple[str, ...]]:
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return ("", text[:120], ())
    fields = tuple(sorted({d.get("field", "?") for d in error.get("details") or [] if isinstance(d, dict)}))
    message = re.sub(r"\b[a-z]+_[0-9A-Z]{26}\b", "<id>", error.get("message", ""))
    return (error.get("code", ""), message, fields)


def template_of(labels: dict, method: str, path: str) -> str:
    return labels.get((method, path), f"{method} {path}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--openapi", required=True)
    parser.add_argument("--ndjson", required=True, action="append", help="one per schemathesis run")
    parser.add_argument("--console", action="append", default=[])
    args = parser.parse_args()
    document = json.load(open(args.openapi))
    documented = {f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item
                  if m in ("get", "put", "post", "delete", "options", "head", "patch", "trace")}
    events = [json.loads(line) for path in args.ndjson for line in open(path)]
    console = "".join(open(path).read() for path in args.console)
    probes: collections.Counter = collections.Counter()
    per_op: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_phase: collections.Counter = collections.Counter()
    failures: dict[Key, dict] = {}
    rejected: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    positive: collections.Counter = collections.Counter()
    statuses: collections.Counter = collections.Counter()
    for event in events:
        error = event.get("NonFatalError")
        if error:  # no response at all (a read timeout, a dropped connection): a failure like any other
            value = error.get("value") or {}
            key = (error.get("label", "?"), "no_response", "no response", value.get("type", "error"))
            entry = failures.setdefault(key, {"count": 0, "phases": set(), "curl": "(schemathesis's console output "
                                              "prints the request)", "title": value.get("type", ""),
                                              "detail": value.get("message", ""), "body": ""})
            entry["count"] += 1
            entry["phases"].add(error.get("phase", "?"))
            continue
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        phase = finished["phase"]
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            case = recorder["cases"][case_id]["value"]
            op = f"{case['method']} {case['path']}"
            response = interaction.get("response")
            status = response["status_code"] if response else "no response"
            if op not in documented:  # the coverage phase's calls with a method the path does not declare
                probes[status] += 1
                per_phase[phase] += 1
                statuses[status] += 1
                continue
            per_op[op]["requests"] += 1
            per_op[op][status] += 1
            per_phase[phase] += 1
            statuses[status] += 1
            text = decode(response.get("content")) if response else ""
            mode = ((case.get("meta") or {}).get("generation") or {}).get("mode")
            if mode == "positive":
                positive[op] += 1
                if isinstance(status, int) and 400 <= status < 500 and status not in (401, 403, 404, 409, 429):
                    code, message, fields = error_of(text)
                    rejected[op][(status, code, message, fields)] += 1
            for check in recorder["checks"].get(case_id, []):
                if check["status"] != "failure":
                    continue
                info = (check.get("failure_info") or {}).get("failure") or {}
                code, message, fields = error_of(text)
                detail = info.get("message", "")
                if info.get("code") == "ST108":  # response violates schema: by the violation and its location
                    cause = (detail.splitlines() or [""])[0]
                    location = re.search(r"Schema at (\S+)", detail)
                    cause = re.sub(r"'[a-z]+_[0-9A-Z]{26}'", "'<id>'", cause)
                    key = (op, check["name"], status, cause, location.group(1) if location else "")
                else:
                    key = (op, check["name"], status, code, message, fields)
                entry = failures.setdefault(key, {"count": 0, "phases": set(), "curl": curl(interaction["request"]),
                                                  "title": info.get("title", check["name"]), "detail": detail,
                                                  "body": text[:600]})
                entry["count"] += 1
                entry["phases"].add(phase)

    out = []
    total = sum(per_phase.values())
    out.append("# schemathesis run summary\n")
    links = re.search(r"API Links:\s+(.*)", console)
    scenarios = re.search(r"Stateful \(in [^)]*\)\s+Scenarios:\s+(\d+)", console)
    out.append(f"- requests: {total} ({', '.join(f'{p} {n}' for p, n in per_phase.items())})")
    out.append(f"- of which undeclared methods on documented paths (coverage phase): {sum(probes.values())} "
               f"({', '.join(f'{s}: {n}' for s, n in sorted(probes.items(), key=lambda x: str(x[0])))})")
    out.append(f"- documented operations: {len(documented)}; that got a request: {len(per_op)}; with a 2xx: "
               f"{sum(1 for c in per_op.values() if any(isinstance(s, int) and 200 <= s < 300 for s in c))}")
    out.append(f"- statuses: {', '.join(f'{s}: {n}' for s, n in sorted(statuses.items(), key=lambda x: str(x[0])))}")
    out.append(f"- 429 responses: {statuses.get(429, 0)}; 5xx responses: "
               f"{sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)}")
    if scenarios or links:
        out.append(f"- stateful: {scenarios.group(1) if scenarios else '?'} scenarios; "
                   f"links {links.group(1).strip() if links else '?'}")
    out.append("")

    out.append(f"## Distinct failures ({len(failures)})\n")
    out.append("The curl commands name this run's gateway, keys and ids: replay them against a gateway holding the "
               "same store, or put in fresh ids (infra/fuzz/seed.py seeds a store the same way). A Payment-Signature "
               "is good for five minutes.\n")
    for key, entry in sorted(failures.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        op, check, status = key[0], key[1], key[2]
        cause = " / ".join(str(k) for k in key[3:] if k)
        out.append(f"### {op} — {check} — {status} — {cause}")
        out.append(f"- {entry['count']}x in {', '.join(sorted(entry['phases']))}")
        out.append("- " + entry["detail"].replace("\n", " | ")[:600])
        out.append(f"- body: `{entry['body'][:400]}`")
        out.append(f"- reproduce: `{entry['curl']}`\n")

    out.append("## Requests per operation\n")
    out.append("| operation | requests | 2xx | 404 | other 4xx | 5xx | mostly 404 |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    mostly_404 = []
    for op in sorted(per_op):
        c = per_op[op]
        ok = sum(n for s, n in c.items() if isinstance(s, int) and 200 <= s < 300)
        nf = c.get(404, 0)
        server = sum(n for s, n in c.items() if isinstance(s, int) and s >= 500)
        other = c["requests"] - ok - nf - server
        mostly = nf * 2 > c["requests"]
        if mostly:
            mostly_404.append(op)
        out.append(f"| {op} | {c['requests']} | {ok} | {nf} | {other} | {server} | {'yes' if mostly else ''} |")
    out.append(f"\nMostly 404 ({len(mostly_404)}): {', '.join(mostly_404) or 'none'}\n")

    out.append("## Valid-by-the-document cases the API refused (positive mode, 400/422)\n")
    for op in sorted(rejected, key=lambda o: -sum(rejected[o].values())):
        n = sum(rejected[op].values())
        out.append(f"- {op}: {n} of {positive[op]} positive cases")
        for (status, code, message, fields), count in rejected[op].most_common(4):
            out.append(f"  - {count}x {status} {code}: {message} {list(fields) if fields else ''}")
    untested = sorted(documented - set(per_op))
    if untested:
        out.append(f"\nDocumented operations that got no request: {', '.join(untested)}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
