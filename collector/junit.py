"""JUnit XML from check results: a testcase per page, failures and errors typed by kind.

The shape CI servers read (Jenkins, GitLab, GitHub test reporters): ``testsuites``
> ``testsuite`` > ``testcase`` with at most one ``failure`` (the page broke:
console, exception, http, request_failed, timeout, step_failed) or ``error`` (the
page could not be checked: unreachable, crash), and the bundle's zip named in
``system-out`` as ``[[ATTACHMENT|path]]``, the Jenkins/GitLab convention.
Whatever a page logged, the XML stays valid: characters XML cannot hold become U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from collector.results import CheckResults, ErrorRecord, PageRecord

ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
MAX_MESSAGE = 500
MAX_TEXT = 2000  # per error line in the failure body


def junit_xml(results: CheckResults, suite_name: str = "collector check") -> bytes:
    pages = sorted(results.pages, key=lambda p: p.index)
    failures = sum(1 for p in pages if p.verdict and p.verdict.element == "failure")
    errors = sum(1 for p in pages if p.verdict and p.verdict.element == "error")
    seconds = f"{results.summary.duration_ms / 1000:.3f}"
    counts = {"tests": str(len(pages)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {**counts, "time": seconds})
    suite = ET.SubElement(
        root, "testsuite", {"name": suite_name, **counts, "skipped": "0", "time": seconds}
    )
    for page in pages:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="collector.check",
            name=xml_text(page.name),
            time=f"{page.duration_ms / 1000:.3f}",
        )
        if page.verdict is None:
            continue
        problem = ET.SubElement(
            case,
            page.verdict.element,
            message=xml_text((page.reason or page.verdict.type)[:MAX_MESSAGE]),
            type=page.verdict.type,
        )
        problem.text = xml_text("\n".join(detail_lines(page)))
        if page.bundle:
            out = ET.SubElement(case, "system-out")
            lines = [f"bundle: {page.bundle}"]
            if page.attachment:
                lines.append(f"[[ATTACHMENT|{page.attachment}]]")
            out.text = xml_text("\n".join(lines))
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def detail_lines(page: PageRecord) -> list[str]:
    """The reason (when it is more than the errors), then one line per failing error."""
    lines = []
    if page.reason and (not page.errors or page.outcome != "errors" or page.missing_expected):
        lines.append(page.reason)
    lines.extend(error_line(error) for error in page.errors)
    return lines


def error_line(error: ErrorRecord) -> str:
    where = error.where()
    count = f" (×{error.count})" if error.count > 1 else ""
    text = " ".join(error.text.split())[:MAX_TEXT]
    return " ".join(part for part in (error.kind, where, text) if part) + count


def xml_text(text: str) -> str:
    return ILLEGAL_XML.sub("\ufffd", text)
