"""``netfence``: a thin command line over the library.

Each subcommand is a ``Command`` (its name, how it adds its arguments, and
what it runs) in ``COMMANDS``; adding one (diff, drift, import, ...) is one
more entry. Commands that only read artifacts import nothing from cdktf, so
they start quickly. Exit codes: 0 all good, 1 findings, 2 bad input, 3 an
internal error (a bug to report; never confusable with findings).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from constructs_lib._bulk import bulk_allocation
from constructs_lib.errors import NetfenceError

if TYPE_CHECKING:
    from constructs_lib.review.live import LiveState

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Command:
    """A subcommand: ``help`` is its line in ``netfence --help``; ``description``
    (examples, what the exit codes mean) heads ``netfence NAME --help``."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


DESCRIPTION = """\
netfence: zero-trust Kubernetes NetworkPolicies from Python intent.

Declare namespaces, workloads and the flows allowed between them in a CDK
app (cdktf or cdktn); synthesizing it writes Terraform JSON and manifests.
netfence then reads that artifact back and proves it allows exactly the
declared flows, draws it, and reviews changes to it.

  netfence init my-policies            start a project of your own
  netfence verify cdktf.out            prove every synthesized stack
  netfence diff base/cdktf.out cdktf.out --format md   review a change
"""

EPILOG = """\
exit codes: 0 all good, 1 findings (what the command checks for), 2 bad input
(the message names the file, the item and the field). `netfence COMMAND --help`
shows a command's options.
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 like any other bad input, but through main's return value."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


@contextmanager
def output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically (see constructs_lib.fsutil)."""
    if path is None:
        yield sys.stdout
        return
    from constructs_lib.fsutil import atomic_writer

    with atomic_writer(path) as out:
        yield out


def _emit(args: argparse.Namespace, modules: dict[str, str], writer: str, value: object) -> None:
    """Write ``value`` with the report module chosen by ``--format`` (imported only then)."""
    module = importlib.import_module(f"constructs_lib.reports.{modules[args.format]}")
    with output(args.output) as out:
        getattr(module, writer)(value, out)


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write here (atomically) instead of stdout"
    )


# reach ------------------------------------------------------------------------


def _configure_reach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        nargs="+",
        required=True,
        metavar="PATH",
        help="Terraform JSON, plans, state, Kubernetes YAML/JSON, or directories of them",
    )
    parser.add_argument("--inventory", required=True, metavar="INVENTORY.yaml")
    parser.add_argument("--format", choices=("json", "table", "md"), default="table")
    _add_output(parser)


def _run_reach(args: argparse.Namespace) -> int:
    from constructs_lib.loaders import load_inventory, load_policies
    from constructs_lib.verifier.reach import Reachability

    reach = Reachability(load_policies(args.policies), load_inventory(args.inventory))
    _emit(
        args,
        {"json": "json_report", "table": "text", "md": "markdown"},
        "write_reach",
        reach.rows(),
    )
    return EXIT_OK


# verify -----------------------------------------------------------------------


def _configure_verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a stack dir, its cdk.tf.json, or cdktf.out")
    parser.add_argument(
        "--format",
        choices=("text", "json", "md"),
        default="text",
        help="text for terminals (default), json for tools, md for a PR comment",
    )
    _add_output(parser)


def _run_verify(args: argparse.Namespace) -> int:
    from constructs_lib.verifier.verify import verify_stack

    result = verify_stack(args.path)
    _emit(
        args,
        {"text": "text", "json": "json_report", "md": "markdown"},
        "write_verification",
        result,
    )
    return EXIT_OK if result.ok else EXIT_FINDINGS


# map --------------------------------------------------------------------------


def _configure_map(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        metavar="PATH",
        help="a stack dir or cdk.tf.json (endpoints from its intent record), or policies "
        "of any kind with --inventory",
    )
    parser.add_argument(
        "--inventory",
        metavar="INVENTORY.yaml",
        help="endpoints to map; default: the stack's intent record",
    )
    parser.add_argument("--format", choices=("mermaid", "dot", "md"), default="mermaid")
    _add_output(parser)


def _run_map(args: argparse.Namespace) -> int:
    from constructs_lib.loaders import (
        collector_paused,
        find_stacks,
        intent_from_artifact,
        load_inventory,
        load_policies,
        read_synth,
    )
    from constructs_lib.loaders.terraform import policies_from_synth
    from constructs_lib.verifier.netmap import network_map, stack_network
    from constructs_lib.verifier.reach import Reachability

    if args.inventory is not None:
        policies = load_policies(args.path)
        network = network_map(Reachability(policies, load_inventory(args.inventory)))
    else:
        stacks = find_stacks(args.path)
        if len(stacks) != 1:
            raise _UsageError(
                f"netfence map: error: {args.path} holds {len(stacks)} stacks; "
                "name one stack dir, or pass --inventory"
            )
        file = str(stacks[0])
        with collector_paused():  # the stack is read once, for its policies and its record
            data = read_synth(stacks[0])
            policies = policies_from_synth(data, file)
            record = intent_from_artifact(data, file)
        network = stack_network(policies, record)
    _emit(args, {"mermaid": "mermaid", "dot": "dot", "md": "markdown"}, "write_map", network)
    return EXIT_OK


# diff -------------------------------------------------------------------------

_REVIEW_FORMATS = {"text": "review_text", "json": "review_json", "md": "review_markdown"}


def _configure_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "base", nargs="?", metavar="BASE", help="synth output before: cdktf.out, stack dir or file"
    )
    parser.add_argument("head", nargs="?", metavar="HEAD", help="synth output after the change")
    parser.add_argument(
        "--plan", metavar="PLAN.json", help="a `terraform show -json` plan instead of BASE HEAD"
    )
    parser.add_argument(
        "--inventory",
        action="append",
        default=[],
        metavar="INVENTORY.yaml",
        help="with --plan: more namespaces, workloads and external endpoints to judge flows by",
    )
    parser.add_argument(
        "--stack",
        action="append",
        default=[],
        metavar="DIR",
        help="with --plan: take workloads from this synth output's intent record",
    )
    parser.add_argument("--format", choices=("text", "json", "md"), default="text")
    parser.add_argument(
        "--fail-on",
        choices=("opened", "risk"),
        help="exit 1 when any flow opened / when any risk flag is raised",
    )
    _add_output(parser)


def _run_diff(args: argparse.Namespace) -> int:
    from constructs_lib.review.diff import diff_artifacts, diff_plan

    if args.plan is not None:
        if args.base is not None:
            raise _UsageError("netfence diff: error: give BASE HEAD or --plan, not both")
        result = diff_plan(args.plan, args.inventory, args.stack)
    else:
        if args.base is None or args.head is None:
            raise _UsageError("netfence diff: error: give BASE and HEAD, or --plan PLAN.json")
        if args.inventory or args.stack:
            raise _UsageError(
                "netfence diff: error: --inventory and --stack go with --plan; "
                "BASE and HEAD carry their own intent records"
            )
        result = diff_artifacts(args.base, args.head)
    _emit(args, _REVIEW_FORMATS, "write_diff", result)
    if args.fail_on == "opened" and result.opened:
        return EXIT_FINDINGS
    if args.fail_on == "risk" and result.risks:
        return EXIT_FINDINGS
    return EXIT_OK


# drift and import -----------------------------------------------------------------


def _add_live(parser: argparse.ArgumentParser, policies: str | None = None) -> None:
    """--live / --kubeconfig (and, given its help, --policies as a third source)."""
    source = parser.add_mutually_exclusive_group(required=True)
    if policies is not None:
        source.add_argument("--policies", metavar="PATH", help=policies)
    source.add_argument(
        "--live",
        metavar="LIVE.json",
        help="`kubectl get networkpolicies,namespaces -A -o json` output or a fake-cluster file",
    )
    source.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="read the cluster itself (needs the `cluster` extra: pip install 'netfence[cluster]')",
    )
    parser.add_argument("--context", metavar="C", help="with --kubeconfig: the context to use")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --kubeconfig: how long to wait for the API server to connect and to answer "
        "each request (default 10)",
    )


def _live(args: argparse.Namespace) -> LiveState:
    from constructs_lib.review.live import load_live, read_cluster

    for flag in ("context", "timeout"):
        if getattr(args, flag) is not None and args.kubeconfig is None:
            raise _UsageError(f"netfence {args.command}: error: --{flag} goes with --kubeconfig")
    if args.timeout is not None and not 0 < args.timeout <= 3600:
        raise _UsageError(
            f"netfence {args.command}: error: --timeout {args.timeout:g}: give 0 < SECONDS <= 3600"
        )
    if args.kubeconfig is not None:
        return read_cluster(args.kubeconfig, args.context, timeout=args.timeout or 10.0)
    return load_live(args.live)


def _configure_drift(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--desired",
        required=True,
        metavar="STACK_DIR",
        help="a stack dir, cdk.tf.json or cdktf.out",
    )
    _add_live(parser)
    parser.add_argument("--format", choices=("text", "json", "md"), default="text")
    _add_output(parser)


def _run_drift(args: argparse.Namespace) -> int:
    from constructs_lib.review.drift import detect_drift

    result = detect_drift(args.desired, _live(args))
    _emit(args, _REVIEW_FORMATS, "write_drift", result)
    return EXIT_FINDINGS if result.drifted else EXIT_OK


def _configure_import(parser: argparse.ArgumentParser) -> None:
    _add_live(parser)
    parser.add_argument("--stack", required=True, metavar="STACK_DIR", help="a stack dir or file")
    parser.add_argument(
        "--write",
        metavar="PATH",
        help="write the imports file here (atomically); without it the file goes to stdout "
        "and the report to stderr",
    )
    parser.add_argument("--format", choices=("text", "json", "md"), default="text")
    _add_output(parser)


def _run_import(args: argparse.Namespace) -> int:
    from constructs_lib.fsutil import write_atomic
    from constructs_lib.review.adopt import plan_imports

    result = plan_imports(args.stack, _live(args))
    if args.write is not None:
        write_atomic(args.write, result.imports_json())
        _emit(args, _REVIEW_FORMATS, "write_import", result)
    else:
        sys.stdout.write(result.imports_json())
        if args.output is not None:
            _emit(args, _REVIEW_FORMATS, "write_import", result)
        else:
            module = importlib.import_module(
                f"constructs_lib.reports.{_REVIEW_FORMATS[args.format]}"
            )
            module.write_import(result, sys.stderr)
    return EXIT_FINDINGS if result.unmanaged else EXIT_OK


# learn ------------------------------------------------------------------------------

EXIT_INTERNAL = 3  # learn's own defect (the generated app did not synthesize): never 1


def _configure_learn(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flows", required=True, metavar="FILE", help="observed flows")
    parser.add_argument(
        "--format",
        choices=("hubble", "csv", "jsonl"),
        help="hubble (`hubble observe -o json`), csv or jsonl (docs/learn.md); "
        "left out: csv for *.csv, else hubble",
    )
    parser.add_argument(
        "--group-by",
        metavar="LABEL",
        help="the pod label that names workloads; left out: app.kubernetes.io/name, then app",
    )
    parser.add_argument(
        "--endpoints",
        metavar="FILE",
        help="YAML map of CIDR -> endpoint name for outside addresses; left out: one per /24",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="where main.py etc. go")
    parser.add_argument("--stack", default="learned", help="the stack name (default: learned)")
    parser.add_argument(
        "--environment",
        default="default",
        help="environment of namespaces whose Hubble labels carry none (default: default)",
    )
    parser.add_argument(
        "--pod-cidr",
        action="append",
        default=[],
        metavar="CIDR",
        help="the cluster's pod range (repeat for more); written into the app's "
        "KubernetesCluster so no external ipBlock can admit pods",
    )
    parser.add_argument(
        "--service-cidr",
        action="append",
        default=[],
        metavar="CIDR",
        help="the cluster's service range (repeat for more)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        metavar="N",
        help="processes reading a large hubble/jsonl file (default: the CPUs, at most 4)",
    )


def _run_learn(args: argparse.Namespace) -> int:
    from constructs_lib.brownfield.flows import guess_format
    from constructs_lib.brownfield.learn import SynthesisFailed, learn
    from constructs_lib.brownfield.observe import DEFAULT_GROUP_BY, load_endpoint_map
    from constructs_lib.model import validation

    group_by = DEFAULT_GROUP_BY
    if args.group_by is not None:
        group_by = (validation.label_key("netfence learn", "--group-by", args.group_by),)
    endpoints = load_endpoint_map(args.endpoints) if args.endpoints is not None else None
    fmt = args.format or guess_format(args.flows)
    try:
        result = learn(
            args.flows,
            args.out,
            fmt=fmt,
            group_by=group_by,
            endpoints=endpoints,
            stack=args.stack,
            environment=args.environment,
            progress=sys.stderr,
            jobs=max(args.jobs, 1),
            pod_cidrs=args.pod_cidr,
            service_cidrs=args.service_cidr,
        )
    except SynthesisFailed as exc:
        print(f"netfence learn: internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    seen = result.seen
    print(
        f"learned {len(result.intent.flows)} flows between {len(result.intent.workloads)} "
        f"workloads and {len(result.intent.endpoints)} external endpoints from {seen.read} "
        f"flows read ({sum(seen.dropped.values())} dropped, not learned) -> {result.out}"
    )
    if not result.proof.ok:
        for finding in result.proof.findings:
            print(f"proof: {finding}", file=sys.stderr)
        print(f"see {result.out / 'LEARNED.md'}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


# migrate ----------------------------------------------------------------------------


def _configure_migrate(parser: argparse.ArgumentParser) -> None:
    _add_live(
        parser,
        policies="existing NetworkPolicies (YAML/JSON files or directories, as reach reads them); "
        "--live / --kubeconfig read them and the namespaces' labels from a cluster",
    )
    parser.add_argument(
        "--inventory", required=True, metavar="FILE", help="namespaces and workloads (pods)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="where main.py etc. go")
    parser.add_argument("--stack", default="migrated", help="the stack name (default: migrated)")
    parser.add_argument(
        "--zero-trust",
        action="store_true",
        help="default deny both ways in every namespace; MIGRATION.md lists every pair that closes",
    )


def _run_migrate(args: argparse.Namespace) -> int:
    from constructs_lib.brownfield.migrate import SynthesisFailed, migrate
    from constructs_lib.loaders import load_policies
    from constructs_lib.loaders.inventory import Inventory, Namespace, load_inventory
    from constructs_lib.model import validation

    validation.dns_label("netfence migrate", "--stack", args.stack)
    inventory = load_inventory(args.inventory)
    if args.policies is not None:
        policies = load_policies(args.policies)
        source = str(args.policies)
    else:
        live = _live(args)
        policies = list(live.policies)
        source = live.source
        labels = live.namespace_labels()
        known = {n.name for n in inventory.namespaces}
        inventory = Inventory(
            (
                *(
                    # the cluster's labels, and what the inventory adds to them
                    Namespace(
                        n.name,
                        tuple(sorted({**dict(labels.get(n.name, ())), **dict(n.labels)}.items())),
                    )
                    for n in inventory.namespaces
                ),
                *(Namespace(n, labels[n]) for n in sorted(labels) if n not in known),
            ),
            inventory.workloads,
            inventory.external,
        )
    try:
        result = migrate(
            policies,
            inventory,
            args.out,
            stack=args.stack,
            zero_trust=args.zero_trust,
            source=source,
        )
    except SynthesisFailed as exc:
        print(f"netfence migrate: internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    proof = result.proof
    print(
        f"migrated {result.policies} policies into {len(result.intent.namespaces)} namespaces, "
        f"{len(result.intent.workloads)} workloads, {len(result.intent.flows)} flows and "
        f"{len(result.intent.raw_policies)} raw policies"
        + (f" ({len(result.fell_back)} after the proof)" if result.fell_back else "")
        + f"; proof: {proof.pairs} pairs, {proof.checks} port checks, "
        f"{len(proof.differences)} differences ({len(proof.unintended)} unintended) "
        f"-> {result.out}"
    )
    if not proof.ok or result.verify_findings:
        for d in proof.unintended:
            print(f"proof: {d.line()}", file=sys.stderr)
        for f in result.verify_findings:
            print(f"verify: {f}", file=sys.stderr)
        print(f"see {result.out / 'MIGRATION.md'}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


# init -----------------------------------------------------------------------------


def _configure_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="where to create the project")
    parser.add_argument(
        "--cdk",
        choices=("cdktf", "cdktn"),
        default="cdktf",
        help="CDK for Terraform (default) or its community fork CDK Terrain",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="project name, also the prefix of its namespaces; default: DIR's name",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty DIR (the scaffold's files are overwritten)",
    )


def _run_init(args: argparse.Namespace) -> int:
    from constructs_lib.scaffold import init_project

    written = init_project(args.directory, cdk=args.cdk, name=args.name, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(f"next: cd {args.directory} and follow README.md (run: python main.py; test: pytest)")
    return EXIT_OK


# report ---------------------------------------------------------------------------


def _configure_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="cdktf.out, a stack dir, or its cdk.tf.json")
    parser.add_argument(
        "--format",
        choices=("md", "html"),
        default="md",
        help="md (GitHub renders its Mermaid map) or html (one self-contained page)",
    )
    _add_output(parser)


def _run_report(args: argparse.Namespace) -> int:
    from constructs_lib.reports.audit import audit_app

    audit = audit_app(args.path)
    _emit(args, {"md": "audit_markdown", "html": "audit_html"}, "write_audit", audit)
    return EXIT_OK if audit.ok else EXIT_FINDINGS


# lint -------------------------------------------------------------------------


def _configure_lint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Kubernetes YAML/JSON (Lists too), cdk.tf.json, .tf.json, plans, state, "
        "or directories of them",
    )
    parser.add_argument(
        "--inventory",
        metavar="INVENTORY.yaml",
        help="namespaces and workloads: adds the checks that need pods (named ports, "
        "policies or peers that match nothing, namespaces without default deny)",
    )
    parser.add_argument("--format", choices=("text", "md", "json", "sarif"), default="text")
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        default="error",
        help="exit 1 when a finding is at least this severe (default: error)",
    )
    _add_output(parser)


def _run_lint(args: argparse.Namespace) -> int:
    from constructs_lib.lint import Severity, lint_paths

    result = lint_paths(args.paths, args.inventory)
    _emit(
        args,
        {"text": "lint_text", "md": "lint_markdown", "json": "lint_json", "sarif": "lint_sarif"},
        "write_lint",
        result,
    )
    return EXIT_FINDINGS if result.fails(Severity.parse(args.fail_on)) else EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "init",
        "create a project of your own: app, tests, config and PR workflow",
        _configure_init,
        _run_init,
        """\
Create a ready project in DIR (new or empty): main.py with one small
zero-trust stack, tests using constructs_lib.testing, netfence.yaml,
requirements.txt and package.json pinning netfence and the CDK, cdktf.json,
.gitignore, a README with its two commands, and the pull-request review
workflow (.github/workflows/netfence.yml).

  netfence init my-policies --name shop
  netfence init my-policies --cdk cdktn
""",
    ),
    Command(
        "reach",
        "which connections policies allow between inventory endpoints",
        _configure_reach,
        _run_reach,
        """\
Which connections any NetworkPolicies allow between the endpoints of an
inventory (namespaces, labelled workloads with IPs and ports, external IPs),
under Kubernetes' own semantics. Policies may be Terraform JSON, plans,
state, or Kubernetes YAML/JSON.

  netfence reach --policies manifests/ --inventory inventory.yaml --format table
""",
    ),
    Command(
        "verify",
        "prove a synthesized stack allows exactly its declared flows",
        _configure_verify,
        _run_verify,
        """\
Prove that a synthesized stack allows exactly the flows it declares: nothing
declared is blocked (also partly: a port, part of a CIDR), nothing undeclared
is allowed, and the zero-trust invariants hold (default deny both ways, DNS
where allowed, no accidental allow-all). Reads only the artifact on disk.
Exit 1 lists each finding with the policies responsible.

  netfence verify cdktf.out                 every stack
  netfence verify cdktf.out/stacks/prod     one stack
""",
    ),
    Command(
        "map",
        "draw the allowed flows (mermaid, dot, or markdown with a table of them)",
        _configure_map,
        _run_map,
        """\
Draw what a stack's policies allow between its workloads and external
endpoints, grouped by namespace: Mermaid (GitHub renders it), Graphviz DOT,
or Markdown with a from/to matrix.

  netfence map cdktf.out/stacks/prod --format md --output MAP.md
""",
    ),
    Command(
        "diff",
        "flows a change opens and closes, with risk flags (synth outputs or a plan)",
        _configure_diff,
        _run_diff,
        """\
Which flows a change opens and which it closes, per namespace, with risk
flags (new internet egress, new cross-environment flows, flows into prod,
lost default deny, peers newly selecting all namespaces). Compares two synth
outputs, or reads the policies a `terraform show -json` plan would apply.

  netfence diff base/cdktf.out cdktf.out --format md --fail-on risk
  netfence diff --plan plan.json --stack cdktf.out/stacks/prod
""",
    ),
    Command(
        "report",
        "an audit report of a synthesized app: namespaces, flows, policies, findings, map",
        _configure_report,
        _run_report,
        """\
Write an audit of a synthesized app, per stack: its namespaces and their
environments, every declared flow with its ports, every policy with its
purpose, verify's findings, and the network map (Mermaid in Markdown, inline
SVG in HTML; the HTML page is self-contained and works offline). Exit 1 when
verify has findings (the report is written all the same).

  netfence report cdktf.out --format html --output audit.html
""",
    ),
    Command(
        "drift",
        "compare a stack with the cluster: connections and policy objects",
        _configure_drift,
        _run_drift,
        """\
Compare what a stack declares with what the cluster runs: policies changed,
deleted or added by hand, and the connections that differs by. Exit 1 on drift.

  kubectl get networkpolicies,namespaces -A -o json > live.json
  netfence drift --desired cdktf.out/stacks/prod --live live.json
""",
    ),
    Command(
        "import",
        "adopt live objects: write Terraform import entries, list unmanaged policies",
        _configure_import,
        _run_import,
        """\
Adopt what already runs: write Terraform import entries for the objects the
stack declares and the cluster has, and list policies the stack does not
declare that widen access (exit 1 when there are any).

  netfence import --live live.json --stack cdktf.out/stacks/prod --write imports/prod.json
""",
    ),
    Command(
        "learn",
        "write intent code (a cdktf app) from observed flows, and prove it",
        _configure_learn,
        _run_learn,
        """\
Turn observed traffic into intent code: pods are grouped into workloads by a
label, replies and DNS queries fold into the DNS allowance, outside addresses
become external endpoints, dropped flows are reported and not learned. learn
then synthesizes the app it wrote and proves the policies allow every learned
flow and nothing else between the observed workloads (exit 1 if not).

  hubble observe -o json > flows.json
  netfence learn --flows flows.json --pod-cidr 10.244.0.0/16 --out learned/
""",
    ),
    Command(
        "migrate",
        "write intent code (a cdktf app) from existing policies, and prove it equal",
        _configure_migrate,
        _run_migrate,
        """\
Turn the NetworkPolicies a cluster already has into intent code a person
keeps: OUT/main.py (namespaces adopted with the default_deny their deny-alls
say, workloads named from their labels, isolate() for no-rule policies, and
ns.raw_policy(...) with its reason for what the model cannot say exactly),
cdktf.json and MIGRATION.md. migrate runs `python main.py` and proves, pair
by pair over the inventory, that the result allows exactly what the
originals allow; exit 1 on any difference that is not intended (--zero-trust
closes everything both ways and lists each closing). See docs/migrate.md.

  netfence migrate --policies k8s/ --inventory inventory.yaml --out infra/
  netfence migrate --live live.json --inventory inventory.yaml --out infra/ --zero-trust
""",
    ),
    Command(
        "lint",
        "check policies as written: allow-alls, missing DNS, ignored rules, shadowing, ...",
        _configure_lint,
        _run_lint,
        """\
Check NetworkPolicies as they are written, with or without netfence intent
(manifests, Helm output, a cluster dump, Terraform JSON, plans, state): empty
rules that allow everything, peers selecting every namespace, egress without
DNS, rules Kubernetes ignores, shadowed and duplicate rules, and with an
inventory the checks that need pods. Each finding has a stable id, a severity,
the file and line, the field and a fix; exit 1 at or above --fail-on.

  netfence lint k8s/ --format sarif --output netfence.sarif --fail-on warning
""",
    ),
]


def build_parser() -> argparse.ArgumentParser:
    from constructs_lib._version import __version__

    parser = _Parser(
        prog="netfence",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"netfence {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for command in COMMANDS:
        child = sub.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


class _Terminated(BaseException):
    """SIGTERM/SIGHUP: unwind like Ctrl-C so partial output files are removed."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated(signum)


@contextmanager
def _signals_unwind() -> Iterator[None]:
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {}
    for sig in wanted:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _terminate)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``netfence``; returns the exit code (the console script exits with it)."""
    try:
        with _signals_unwind():
            return _main(argv)
    except _Terminated as exc:
        print("netfence: terminated; no partial output was left", file=sys.stderr)
        return 128 + int(exc.args[0])


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        with bulk_allocation():
            code: int = args.run(args)
        return code
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except NetfenceError as exc:
        print(f"netfence: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # `netfence reach ... | head` closed the pipe: not an error of the input.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if not exc.filename:
            return _internal(exc)
        print(f"netfence: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("netfence: interrupted; no partial output was left", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    print(
        f"netfence: internal error ({type(exc).__name__}: {exc}); this is a bug in netfence, "
        "not in your input: please report it with the command you ran",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
