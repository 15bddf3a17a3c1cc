"""An ``Intent`` as a cdktf app a person would write and keep: main.py and cdktf.json.

The code uses netfence's public API only, one declaration per line, sorted,
so regenerating from the same intent gives the same bytes and a change in
the intent shows as a small diff. ``python main.py`` synthesizes into
``cdktf.out/`` beside the file, whatever the working directory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from constructs_lib.brownfield.intent import EndRef, Intent, identifier
from constructs_lib.model.port import Port, Protocol

WIDTH = 100  # ruff's line length in this project (ruff format fills lines up to it)
_INDENT = "    "
# Names main.py itself uses; generated variables must not shadow them.
_RESERVED = {"app", "stack", "build", "main", "synth", "sys", "here", "annotations"}


def _q(text: str) -> str:
    """A string literal as ruff format writes it (double quotes)."""
    return json.dumps(text)


def render_port(port: Port) -> str:
    if port.protocol is None:
        return "Port.all()"
    if port.is_any:
        if port.protocol is Protocol.SCTP:
            raise ValueError("no Port factory for every SCTP port")
        return f"Port.all_{port.protocol.value.lower()}()"
    if port.is_named:
        assert port.name is not None
        if port.protocol is Protocol.TCP:
            return f"Port.named({_q(port.name)})"
        return f"Port.named({_q(port.name)}, {_q(port.protocol.value)})"
    factory = port.protocol.value.lower()
    if port.end is not None:
        if port.protocol in (Protocol.TCP, Protocol.UDP):
            return f"Port.{factory}_range({port.number}, {port.end})"
        return f"Port.range({_q(port.protocol.value)}, {port.number}, {port.end})"
    name = f", name={_q(port.name)}" if port.name else ""
    return f"Port.{factory}({port.number}{name})"


def _ports(ports: Sequence[Port]) -> list[str]:
    return [render_port(p) for p in ports]


def _call(indent: str, head: str, args: Sequence[str | tuple[str, list[str]]]) -> list[str]:
    """``head(arg, ...)`` on one line when it fits, else one argument per line.

    An argument is a string, or (``prefix``, items) for a list argument such
    as ``ports=[...]`` that is itself broken one item per line when too long.
    """

    def flat(arg: str | tuple[str, list[str]]) -> str:
        if isinstance(arg, str):
            return arg
        prefix, items = arg
        return f"{prefix}[{', '.join(items)}]"

    joined = ", ".join(flat(a) for a in args)
    one = f"{indent}{head}({joined})"
    if len(one) <= WIDTH:
        return [one]
    inner = indent + _INDENT
    if len(inner + joined) <= WIDTH:  # what ruff format does next: the arguments on one line
        return [f"{indent}{head}(", inner + joined, f"{indent})"]
    lines = [f"{indent}{head}("]
    for arg in args:
        text = f"{inner}{flat(arg)},"
        if len(text) <= WIDTH or isinstance(arg, str):
            lines.append(text)
            continue
        prefix, items = arg
        lines.append(f"{inner}{prefix}[")
        lines.extend(f"{inner}{_INDENT}{item}," for item in items)
        lines.append(f"{inner}],")
    lines.append(f"{indent})")
    return lines


def _comment(indent: str, text: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.splitlines()] if text else []


def _doc(text: str) -> str:
    """Text safe inside a docstring (file names may hold backslashes or quotes)."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _dict(labels: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in labels) + "}"


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: classes (CamelCase) before functions."""
    return (0 if name[0].isupper() else 1, name)


def render_app(intent: Intent) -> str:
    """main.py for ``intent`` (deterministic: sorted, independent of input order)."""
    intent = intent.sorted()
    taken = set(_RESERVED)
    ns_var = {n.name: identifier(n.name, taken) for n in intent.namespaces}
    wl_var = {
        (w.namespace, w.name): identifier(f"{w.namespace}_{w.name}", taken)
        for w in intent.workloads
    }
    ep_var = {e.name: identifier(e.name, taken) for e in intent.endpoints}
    ports_of = {EndRef("workload", w.name, w.namespace): w.ports for w in intent.workloads}
    ports_of.update({EndRef("external", e.name): e.ports for e in intent.endpoints})

    def var(ref: EndRef) -> str:
        if ref.kind == "workload":
            return wl_var[(ref.namespace, ref.name)]
        if ref.kind == "selection":
            if not ref.labels:
                return f"{ns_var[ref.namespace]}.all_workloads()"
            return f"{ns_var[ref.namespace]}.select({_dict(ref.labels)})"
        if ref.kind == "namespaces":
            if ref.names:
                scope = f"Namespaces.named({', '.join(_q(n) for n in ref.names)})"
            elif ref.namespace_labels:
                scope = f"Namespaces.labelled({_dict(ref.namespace_labels)})"
            else:
                scope = "Namespaces.all()"
            return f"{scope}.pods({_dict(ref.labels)})" if ref.labels else f"{scope}.all_pods()"
        return ep_var[ref.name]

    # Only what a later line refers to gets a variable (no unused locals in main.py).
    ends = [end for f in intent.flows for end in (f.source, f.destination)]
    used_wl = {(e.namespace, e.name) for e in ends if e.kind == "workload"}
    used_wl |= {(w.namespace, w.name) for w in intent.workloads if w.isolate}
    used_ns = {w.namespace for w in intent.workloads} | {r.namespace for r in intent.raw_policies}
    used_ns |= {e.namespace for e in ends if e.kind == "selection"}
    title, notes = _doc(intent.title), [_doc(n) for n in intent.notes]
    out = ['"""' + title, "", *notes, '"""'] if notes else ['"""' + title + '"""']
    out += [
        "",
        "from __future__ import annotations",
        "",
        "import sys",
        "from pathlib import Path",
        "",
        "# constructs_lib first: it picks the Node.js that jsii (under cdktf) runs",
        "from constructs_lib import IMPORTS",
        "",
        "from cdktf import App, TerraformStack  # isort: skip",
        "",
        "HERE = Path(__file__).resolve().parent",
        "",
        "",
        "def build(app: App) -> TerraformStack:",
        f"    stack = TerraformStack(app, {_q(intent.stack)})",
    ]
    body: list[str] = []
    i = _INDENT
    if intent.pod_cidrs or intent.service_cidrs:
        body += [
            "",
            f"{i}# The cluster's address ranges: no external endpoint's ipBlock may admit pods.",
        ]
        args_c: list[str | tuple[str, list[str]]] = ["stack", _q("cluster")]
        if intent.pod_cidrs:
            args_c.append(("pod_cidrs=", [_q(c) for c in intent.pod_cidrs]))
        if intent.service_cidrs:
            args_c.append(("service_cidrs=", [_q(c) for c in intent.service_cidrs]))
        body += _call(i, "KubernetesCluster", args_c)
    if intent.namespaces:
        body += [
            "",
            f"{i}# Namespaces: they exist already, so Terraform adopts them (labels only).",
        ]
        for n in intent.namespaces:
            args: list[str | tuple[str, list[str]]] = [
                "stack",
                _q(n.name),
                f"environment={_q(n.environment)}",
            ]
            if n.adopt:
                args.append("adopt=True")
            if n.default_deny != "both":
                args.append(f"default_deny={_q(n.default_deny)}")
            if not n.allow_dns:
                args.append("allow_dns=False")
            body += _comment(i, n.comment)
            assign = f"{ns_var[n.name]} = " if n.name in used_ns else ""
            body += _call(i, f"{assign}ZeroTrustNamespace", args)
    if intent.workloads:
        body += ["", f"{i}# Workloads: the pods each selector matches, and the ports they accept."]
        for w in intent.workloads:
            args = [_q(w.name), f"labels={_dict(w.selector)}"]
            if w.ports:
                args.append(("ports=", _ports(w.ports)))
            body += _comment(i, w.comment)
            assign = (
                f"{wl_var[(w.namespace, w.name)]} = " if (w.namespace, w.name) in used_wl else ""
            )
            body += _call(i, f"{assign}{ns_var[w.namespace]}.workload", args)
    isolated = [w for w in intent.workloads if w.isolate]
    if isolated:
        body += ["", f"{i}# Isolated on their own, in a direction the namespace leaves open."]
        for w in isolated:
            body.append(f"{i}{wl_var[(w.namespace, w.name)]}.isolate({_q(w.isolate)})")
    if intent.endpoints:
        body += ["", f"{i}# External endpoints: addresses outside the cluster."]
        for e in intent.endpoints:
            args = [_q(e.name)]
            if len(e.cidrs) == 1:
                args.append(f"cidr={_q(e.cidrs[0])}")
            else:
                args.append(("cidrs=", [_q(c) for c in e.cidrs]))
            if e.excepts:
                args.append(("except_=", [_q(c) for c in e.excepts]))
            if e.ports:
                args.append(("ports=", _ports(e.ports)))
            if e.internet:
                args.append("internet=True")
            if e.include_cluster_ranges:
                args.append("include_cluster_ranges=True")
            body += _comment(i, e.comment)
            body += _call(i, f"{ep_var[e.name]} = ExternalEndpoint", args)
    if intent.flows:
        body += ["", f"{i}# Flows: who may open connections to whom (egress and ingress)."]
        statements = []
        for f in intent.flows:
            # A flow from outside the stack's pods is declared on the pods it reaches.
            if f.source.kind in ("external", "namespaces"):
                owner, verb, other = var(f.destination), "allow_from", var(f.source)
            else:
                owner, verb, other = var(f.source), "allow_to", var(f.destination)
            args = [other]
            if tuple(f.ports) != tuple(ports_of.get(f.destination, ())):
                args.append(("ports=", _ports(f.ports)))
            if f.cross_environment:
                args.append("cross_environment=True")
            statements.append((owner, verb, other, args))
        previous = None
        for owner, verb, _, args in sorted(statements, key=lambda s: (s[0], s[1], s[2])):
            if previous is not None and previous != owner:
                body.append("")
            previous = owner
            body += _call(i, f"{owner}.{verb}", args)
    if intent.raw_policies:
        body += [
            "",
            f"{i}# Kept verbatim: what workloads and flows cannot say exactly (see MIGRATION.md).",
        ]
        for r in intent.raw_policies:
            body.append(f"{i}{ns_var[r.namespace]}.raw_policy(")
            body.append(f"{i}{i}{_q(r.name)},")
            body += _literal(json.loads(r.spec), i + i, ",")
            body += _text(i + i, "reason=", r.reason)
            body.append(f"{i})")
    out += body
    used = " ".join(body)
    names = ["NetfenceError", "synth"] + [
        n
        for n in (
            "ExternalEndpoint",
            "KubernetesCluster",
            "Namespaces",
            "Port",
            "ZeroTrustNamespace",
        )
        if f"{n}(" in used or f"{n}." in used
    ]
    ordered = sorted(names, key=_isort_key)
    line = f"from constructs_lib import {', '.join(ordered)}"
    if len(line) > WIDTH:  # isort's wrapping: one name per line
        line = "\n".join(
            ["from constructs_lib import (", *(f"{_INDENT}{n}," for n in ordered), ")"]
        )
    out[out.index("from constructs_lib import IMPORTS")] = line
    out += [
        "",
        f"{i}return stack",
        "",
        "",
        "def main() -> int:",
        f'{i}app = App(outdir=str(HERE / "cdktf.out"))',
        f"{i}try:",
        f"{i}{i}build(app)",
        f"{i}{i}summaries = synth(app)",
        f"{i}except NetfenceError as exc:  # bad intent: say what and where, no traceback",
        f'{i}{i}print(f"netfence: error: {{exc}}", file=sys.stderr)',
        f"{i}{i}return 2",
        f"{i}for summary in summaries:",
        f"{i}{i}print(summary.line())",
        f"{i}return 0",
        "",
        "",
        'if __name__ == "__main__":',
        f"{i}sys.exit(main())",
        "",
    ]
    return "\n".join(out)


def _literal(value: object, indent: str, tail: str = "", head: str = "") -> list[str]:
    """A JSON value as a Python literal after ``head``: one line when it fits, else one
    item per line (as ruff format breaks it)."""
    flat = _flat(value)
    if len(indent) + len(head) + len(flat) + len(tail) <= WIDTH or not isinstance(
        value, (dict, list)
    ):
        return [f"{indent}{head}{flat}{tail}"]
    inner = indent + _INDENT
    if isinstance(value, dict):
        lines = [f"{indent}{head}{{"]
        for key, item in value.items():
            lines += _literal(item, inner, ",", f"{_q(key)}: ")
        lines.append(f"{indent}}}{tail}")
        return lines
    assert isinstance(value, list)
    lines = [f"{indent}{head}["]
    for item in value:
        lines += _literal(item, inner, ",")
    lines.append(f"{indent}]{tail}")
    return lines


def _text(indent: str, head: str, text: str) -> list[str]:
    """``head="text",`` or, too long, the string split into parenthesized pieces."""
    one = f"{indent}{head}{_q(text)},"
    if len(one) <= WIDTH:
        return [one]
    import textwrap

    pieces = textwrap.wrap(text, WIDTH - len(indent) - 8, drop_whitespace=False)
    return [f"{indent}{head}(", *(f"{indent}{_INDENT}{_q(p)}" for p in pieces), f"{indent}),"]


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_q(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    if isinstance(value, str):
        return _q(value)
    return repr(value)


def render_cdktf_json(project: str) -> str:
    """cdktf.json so ``npx cdktf synth`` / ``deploy`` run main.py from its directory."""
    doc = {
        "app": "python main.py",
        "codeMakerOutput": "imports",
        "context": {},
        "language": "python",
        "projectId": project,
        "sendCrashReports": "false",
        "terraformModules": [],
        "terraformProviders": [],
    }
    return json.dumps(doc, indent=2) + "\n"
