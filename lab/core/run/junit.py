"""A run as JUnit XML: one test case per cell (variant x test case x sample), the format GitLab,
GitHub Actions' test reporters and Jenkins read.

A cell whose output failed a check is a `<failure>` carrying every failed check's reason; a cell
whose call ended in an error is an `<error>` carrying the call's error. Each variant is a test
suite, with its model as a property. The output is in `<system-out>`, so a reviewer sees what
the model said without opening the lab.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.run.setup import stored_spec

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


_OUTPUT_LIMIT = 4000  # characters of output kept per test case; the log has the rest


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0) / 1000:.3f}"


def _case_name(call: dict[str, Any], labels: list[str], samples: int) -> str:
    index = call["case_index"]
    label = labels[index] if index is not None and index < len(labels) else ""
    name = f"case {index + 1}" if index is not None else "case ?"
    if label:
        name += f" ({label})"
    if samples > 1:
        name += f", sample {call['sample_index'] + 1}"
    return name


def junit_xml(store: Store, run_id: int) -> ET.ElementTree:
    run = store.get_run(run_id)
    if run is None:
        raise ValueError(f"no run {run_id}")
    spec = stored_spec(run)
    labels = [case.label for case in spec.project.cases]
    order = {v.name: i for i, v in enumerate(spec.project.variants)}
    calls = sorted(store.calls_for_run(run_id), key=lambda c: (
        order.get(c["variant_name"], len(order)), c["case_index"] or 0, c["sample_index"]))
    root = ET.Element("testsuites", name=f"{run['experiment_name']} (run {run_id})")
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for call in calls:
        variant = call["variant_name"]
        suite = suites.get(variant)
        if suite is None:
            suite = suites[variant] = ET.SubElement(root, "testsuite", name=variant)
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="model", value=f"{call['provider']}/{call['model']}")
            suite.attrib.update(tests="0", failures="0", errors="0", time="0.000",
                                timestamp=run["started_at"] or "")
        case = ET.SubElement(suite, "testcase", classname=f"{run['experiment_name']}.{variant}",
                             name=_case_name(call, labels, run["samples"]),
                             time=_seconds(call["latency_ms"]))
        kind = None
        if call["status"] != "ok":
            kind = "errors"
            message = call["error_message"] or call["status"]
            error = ET.SubElement(case, "error", message=message.splitlines()[0][:500],
                                  type=call["error_type"] or call["status"])
            error.text = message
        else:
            failed = [r for r in call["check_results"] if not r["passed"]]
            if failed:
                kind = "failures"
                reasons = [f"{r['check_name']}: {r['reason']}" for r in failed]
                failure = ET.SubElement(case, "failure", message=reasons[0][:500],
                                        type="check failed")
                failure.text = "\n".join(reasons)
            out = ET.SubElement(case, "system-out")
            out.text = (call["response_text"] or "")[:_OUTPUT_LIMIT]
        suite.set("tests", str(int(suite.get("tests")) + 1))
        suite.set("time", f"{float(suite.get('time')) + (call['latency_ms'] or 0) / 1000:.3f}")
        totals["tests"] += 1
        if kind:
            suite.set(kind, str(int(suite.get(kind)) + 1))
            totals[kind] += 1
    root.attrib.update({k: str(v) for k, v in totals.items()})
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(store: Store, run_id: int, path: str | Path) -> Path:
    """Write the run's JUnit XML to `path` (atomically: a reader never sees half a file)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    junit_xml(store, run_id).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(target)
    return target
