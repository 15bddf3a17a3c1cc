"""Issue 9, reader side: one table per class of misread, with the exact message.

Each row is an input Kubernetes or Terraform reads differently from how
netfence used to read it (or refuses, while netfence accepted it).
"""

from __future__ import annotations

import copy
import json
import os
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import cli
from constructs_lib.cli import main
from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import _read, load_inventory, load_policies
from constructs_lib.loaders._read import MAX_DEPTH
from constructs_lib.review.live import load_live

from .stacks import exact_stack, write_stack

NP = "networking.k8s.io/v1"


def manifest(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": NP,
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"podSelector": {}, **spec},
    }


def tf_policy(**spec: Any) -> dict[str, Any]:
    body = {
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"pod_selector": {}, "policy_types": ["Ingress"], **spec},
    }
    return {"resource": {"kubernetes_network_policy_v1": {"p": body}}}


def refusal(path: Path) -> str:
    with pytest.raises(ArtifactError) as err:
        load_policies(path)
    return str(err.value)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# policyTypes ----------------------------------------------------------------------


def test_empty_policy_types_in_yaml_defaults_like_kubernetes(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(manifest(policyTypes=[], egress=[{}])))
    (policy,) = load_policies(path)
    assert policy.policy_types == ("Ingress", "Egress")
    path.write_text(json.dumps(manifest(policyTypes=[])))
    assert load_policies(path)[0].policy_types == ("Ingress",)


def test_empty_policy_types_in_terraform_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(tf_policy(policy_types=[])))
    assert refusal(path) == (
        f"{path} at resource.kubernetes_network_policy_v1.p.spec.policy_types: an empty list; "
        "Terraform requires at least one of Ingress, Egress"
    )


# Terraform templates --------------------------------------------------------------

TEMPLATE = (
    "is a Terraform template ({t}...}}), which Terraform evaluates and netfence cannot verify: "
    "write the literal value (or ${t} to mean the characters {t})"
)
P = "resource.kubernetes_network_policy_v1.p"


@pytest.mark.parametrize(
    ("spec", "field", "value", "token"),
    [
        (
            {"pod_selector": {"match_labels": {"app": '${lower("FRONTEND")}'}}},
            "spec.pod_selector.match_labels.app",
            '${lower("FRONTEND")}',
            "${",
        ),
        (
            {"pod_selector": {"match_labels": {"%{if true}app%{endif}": "x"}}},
            "spec.pod_selector.match_labels.%{if true}app%{endif}",
            "%{if true}app%{endif}",
            "%{",
        ),
        (
            {"ingress": [{"from": [{"ip_block": {"cidr": "${var.cidr}"}}]}]},
            "spec.ingress[0].from[0].ip_block.cidr",
            "${var.cidr}",
            "${",
        ),
        (
            {"ingress": [{"ports": [{"port": "${local.port}"}]}]},
            "spec.ingress[0].ports[0].port",
            "${local.port}",
            "${",
        ),
    ],
)
def test_terraform_templates_are_refused_naming_the_field(
    tmp_path: Path, spec: dict[str, Any], field: str, value: str, token: str
) -> None:
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(tf_policy(**spec)))
    assert refusal(path) == f"{path} at {P}.{field}: {value!r} " + TEMPLATE.format(t=token)


def test_terraform_escapes_are_read_as_the_literal_terraform_produces(tmp_path: Path) -> None:
    data = tf_policy()
    data["resource"]["kubernetes_network_policy_v1"]["p"]["metadata"]["name"] = "$${x}"
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(data))
    assert refusal(path).endswith(
        "metadata.name: invalid name '${x}': must be a DNS subdomain (at most 253 characters: "
        "lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "dot-separated)"
    )


# other resource kinds and providers ---------------------------------------------


def test_kubernetes_manifest_policy_is_read(tmp_path: Path) -> None:
    data = {"resource": {"kubernetes_manifest": {"m": {"manifest": manifest(policyTypes=[])}}}}
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(data))
    (policy,) = load_policies(path)
    assert (policy.key, policy.policy_types, str(policy.source)) == (
        "shop/p",
        ("Ingress",),
        "kubernetes_manifest.m",
    )


def test_provider_alias_is_refused(tmp_path: Path) -> None:
    data = tf_policy()
    data["resource"]["kubernetes_network_policy_v1"]["p"]["provider"] = "kubernetes.other"
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(data))
    assert refusal(path) == (
        f"{path} at {P}.provider: provider 'kubernetes.other' is not the stack's provider "
        "'kubernetes': the policy would be applied to another cluster than the one the stack's "
        "intent describes; remove the provider override"
    )


# duplicates ------------------------------------------------------------------------


def test_duplicate_keys_are_refused_in_json_and_yaml(tmp_path: Path) -> None:
    js = tmp_path / "p.json"
    js.write_text('{"kind": "NetworkPolicy", "spec": {}, "spec": {}}')
    assert refusal(js) == (
        f"{js}: key 'spec' appears twice in one object; Terraform and Kubernetes refuse or "
        "drop one of them: keep one"
    )
    ym = tmp_path / "p.yaml"
    ym.write_text("kind: NetworkPolicy\nspec: {}\nmetadata: {}\nspec: {}\n")
    assert refusal(ym) == (
        f"{ym}: key 'spec' on line 4 appears twice in one mapping (first on line 2); "
        "readers keep only one of them, so write it once"
    )


def test_same_policy_under_two_resource_types_is_refused(tmp_path: Path) -> None:
    data = tf_policy()
    body = data["resource"]["kubernetes_network_policy_v1"]["p"]
    data["resource"]["kubernetes_network_policy"] = {"q": copy.deepcopy(body)}
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(data))
    assert refusal(path) == (
        f"{path}: policy shop/p is defined twice: at kubernetes_network_policy_v1.p and at "
        "kubernetes_network_policy.q; Kubernetes would keep only one of them"
    )


def test_same_live_policy_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    path.write_text(json.dumps({"kind": "List", "items": [manifest(), manifest()]}))
    with pytest.raises(ArtifactError) as err:
        load_live(path)
    assert str(err.value) == (
        f"{path} (document 0) at items[1]: NetworkPolicy shop/p is listed twice "
        f"(first at {path} items[0])"
    )
    # The same policy twice in a manifest file that holds no other objects:
    other = tmp_path / "p.json"
    other.write_text(json.dumps({"kind": "List", "items": [manifest(), manifest()]}))
    assert refusal(other) == (
        f"{other}: policy shop/p is defined twice: at {other} items[0] and at {other} items[1]; "
        "Kubernetes would keep only one of them"
    )


# values the API server refuses -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"apiVersion": "extensions/v1beta1"},
            "apiVersion",
            ("expected 'networking.k8s.io/v1', got string 'extensions/v1beta1'"),
        ),
        ({"apiVersion": 1}, "apiVersion", "expected 'networking.k8s.io/v1', got number 1"),
        (
            {"apiVersion": None},
            "apiVersion",
            ("missing required field; expected 'networking.k8s.io/v1'"),
        ),
        (
            {"spec": {"ingress": [{"ports": [{"port": "5432"}]}]}},
            "spec.ingress[0].ports[0].port",
            (
                "port '5432' is a string, which Kubernetes reads as a port name and refuses: "
                "write 5432 (a number) without quotes"
            ),
        ),
        (
            {"spec": {"ingress": [{"ports": [{"port": 80, "endPort": 0}]}]}},
            "spec.ingress[0].ports[0].endPort",
            "endPort 0 is outside 1-65535",
        ),
        (
            {"spec": {"ingress": [{"ports": [{"port": 80, "endPort": "90"}]}]}},
            "spec.ingress[0].ports[0].endPort",
            "expected a number, got string '90'",
        ),
        (
            {"spec": {"ingress": [{"ports": [{"port": 80, "endPort": 70}]}]}},
            "spec.ingress[0].ports[0].endPort",
            "endPort 70 is below port 80",
        ),
        (
            {"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1"}}]}]}},
            "spec.ingress[0].from[0].ipBlock.cidr",
            (
                "invalid CIDR '10.0.0.1': a bare address; add the prefix length "
                "(/32 or /128 for one address)"
            ),
        ),
        (
            {"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "fe80::%eth0/64"}}]}]}},
            "spec.ingress[0].from[0].ipBlock.cidr",
            (
                "invalid CIDR 'fe80::%eth0/64': expected an address, '/' and a prefix length, "
                "without a zone"
            ),
        ),
        (
            {
                "spec": {
                    "ingress": [
                        {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}]}
                    ]
                }
            },
            "spec.ingress[0].from[0].ipBlock.except[0]",
            "'10.0.0.0/8' is the whole cidr '10.0.0.0/8'; except must be a part of it",
        ),
        (
            {
                "spec": {
                    "ingress": [
                        {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}
                    ]
                }
            },
            "spec.ingress[0].from[0].ipBlock.except[0]",
            "'11.0.0.0/16' is not inside cidr '10.0.0.0/8'",
        ),
        (
            {"spec": {"podSelector": {"matchLabels": {"a": "b c"}}}},
            "spec.podSelector.matchLabels.a",
            (
                "invalid label value 'b c': at most 63 characters, letters, digits, '-', '_' and "
                "'.', starting and ending with a letter or digit (or empty)"
            ),
        ),
        (
            {"spec": {"podSelector": {"matchLabels": {"Example.com/a": "b"}}}},
            "spec.podSelector.matchLabels.Example.com/a",
            (
                "invalid label key 'Example.com/a': the prefix before '/' must be a DNS subdomain "
                "(lowercase, dot-separated)"
            ),
        ),
        (
            {"spec": {"podSelector": {"matchLabels": {"a" * 64: "b"}}}},
            "spec.podSelector.matchLabels." + "a" * 64,
            (
                f"invalid label key {'a' * 64!r}: the name part must be 1-63 characters: letters, "
                "digits, '-', '_' and '.', starting and ending with a letter or digit"
            ),
        ),
        (
            {"spec": {"podSelector": {}, "egress": [{"ports": [{"protocol": ""}]}]}},
            "spec.egress[0].ports[0].protocol",
            "unknown protocol ''; expected TCP, UDP or SCTP",
        ),
        (
            {"spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}, "x": 1}]}]}},
            "spec.ingress[0].from[0].x",
            "unknown field; expected one of ipBlock, namespaceSelector, podSelector",
        ),
        (
            {"metadata": {"name": "P", "namespace": "shop"}},
            "metadata.name",
            (
                "invalid name 'P': must be a DNS subdomain (at most 253 characters: lowercase "
                "letters, digits and '-', starting and ending with a letter or digit, "
                "dot-separated)"
            ),
        ),
    ],
)
def test_values_kubernetes_refuses_are_refused(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    doc = manifest()
    for key, value in change.items():
        if key == "spec":
            doc["spec"] = {"podSelector": {}, **value}
        elif value is None:
            del doc[key]
        else:
            doc[key] = value
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert refusal(path) == f"{path} (document 0) at {field}: {message}"


def test_integer_label_key_in_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"apiVersion: {NP}\nkind: NetworkPolicy\nmetadata: {{name: p}}\n"
        "spec: {podSelector: {matchLabels: {1: a}}}\n"
    )
    assert refusal(path) == (
        f"{path} (document 0) at spec.podSelector.matchLabels.1: label key 1 is a number; "
        "label keys are strings (quote it in YAML)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "namespaces: {x: {}}\nexternal: [{name: e, cidr: 10.0.0.0/8, internet: 'false'}]",
            "at external[0].internet: expected true or false, got string 'false'",
        ),
        (
            "external: [{name: e, cidr: 10.0.0.0/8, except: [11.0.0.0/16]}]",
            "at external[0].except[0]: '11.0.0.0/16' is not a part of any of its cidrs "
            "(10.0.0.0/8)",
        ),
        (
            "namespaces: {x: {}}\nworkloads: [{namespace: y, name: a}]",
            "at workloads[0].namespace: namespace 'y' is not declared under namespaces "
            "(declared: x); add it with its labels",
        ),
    ],
)
def test_inventory_values_are_read_exactly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(text)
    with pytest.raises(ArtifactError) as err:
        load_inventory(path)
    assert str(err.value) == f"{path} {message}"


def test_intent_record_booleans_must_be_booleans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path, exact_stack())
    file = stack / "cdk.tf.json"
    data = json.loads(file.read_text())
    data["//"]["metadata"]["netfence"]["namespaces"][0]["managed"] = "false"
    file.write_text(json.dumps(data))
    code, _, err = run(["verify", str(stack)], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {file} at //.metadata.netfence.namespaces[0].managed: expected true "
        "or false, got string 'false'\n",
    )


# commands given another input kind --------------------------------------------------


def test_diff_base_that_is_a_kubectl_list_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path, exact_stack())
    listing = tmp_path / "live.json"
    listing.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    code, out, err = run(["diff", str(listing), str(stack)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"netfence: error: {listing}: expected a synthesized stack: cdk.tf.json as `cdktf synth` "
        "writes it to cdktf.out/stacks/<stack>/ (give the file, its stack dir, or cdktf.out); "
        "this is a Kubernetes List (Kubernetes objects; netfence reach and map read manifests)\n"
    )


@pytest.mark.parametrize("command", ["verify", "map", "diff"])
def test_yaml_where_a_stack_is_expected_says_what_is_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = tmp_path / "manifests.yaml"
    path.write_text("kind: List\nitems: []\n")
    argv = [command, str(path)] + ([str(path)] if command == "diff" else [])
    code, _, err = run(argv, capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {path}: expected a synthesized stack: cdk.tf.json as `cdktf synth` "
        "writes it to cdktf.out/stacks/<stack>/ (give the file, its stack dir, or cdktf.out); "
        "this is a YAML file\n",
    )


# tracebacks and hangs ---------------------------------------------------------------


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    js = tmp_path / "deep.json"
    js.write_text("[" * 100_000 + "]" * 100_000)
    assert refusal(js) == f"{js}: not valid JSON: nested too deeply"
    ym = tmp_path / "deep.yaml"
    ym.write_text("[" * 100_000 + "]" * 100_000)
    assert refusal(ym) == f"{ym}: not valid YAML: nested more than {MAX_DEPTH} deep (line 1)"


def test_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [*a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines).replace("*a0", "*a") + "\n")
    assert refusal(path) == (
        f"{path}: YAML alias *a on line 2 is not supported (aliases can expand without bound): "
        "write the value out"
    )


def test_non_utf8_input_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"namespaces: {x: {labels: {a: \xff}}}\n")
    with pytest.raises(ArtifactError) as err:
        load_inventory(path)
    assert str(err.value) == f"{path}: cannot read: not UTF-8 text (byte 29 is 0xff)"


def test_input_larger_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_read, "MAX_BYTES", 1024 * 1024)
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"namespaces: {}\n" + b"#" * (1024 * 1024))
    with pytest.raises(ArtifactError) as err:
        load_inventory(path)
    assert str(err.value) == f"{path}: cannot read: larger than 1 MiB, the most netfence reads"
    path.write_bytes(b"namespaces: {}\n" + b"#" * (1024 * 1024 - 16))  # exactly the limit
    assert load_inventory(path).namespaces == ()


def test_the_limit_admits_a_100000_workload_stack() -> None:
    # bench/reach_bench.py's 100,000 workloads (220,000 policies) write 373 MB of cdk.tf.json
    assert _read.MAX_BYTES >= 512 * 1024 * 1024


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_and_fifo_inputs_are_refused_without_blocking(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as err:
        load_inventory("/dev/zero")
    assert str(err.value) == "/dev/zero: cannot read: not a regular file; give a file"
    fifo = tmp_path / "inv.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ArtifactError) as err:
        load_inventory(fifo)
    assert str(err.value) == f"{fifo}: cannot read: not a regular file; give a file"


def test_internal_error_exits_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: Any) -> int:
        raise KeyError("boom")

    commands = [replace(c, run=broken) if c.name == "verify" else c for c in cli.COMMANDS]
    monkeypatch.setattr(cli, "COMMANDS", commands)
    code, _, err = run(["verify", "x"], capsys)
    assert code == 3
    assert err == (
        "netfence: internal error (KeyError: 'boom'); this is a bug in netfence, not in your "
        "input: please report it with the command you ran\n"
    )


# output files -------------------------------------------------------------------------


def test_output_into_a_missing_directory_names_that_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path, exact_stack())
    target = tmp_path / "nope" / "report.txt"
    code, _, err = run(["verify", str(stack), "--output", str(target)], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {target}: cannot write: directory {target.parent} does not exist\n",
    )


def test_write_under_a_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from constructs_lib.errors import OutputError
    from constructs_lib.fsutil import write_atomic

    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(OutputError) as err:
        write_atomic(blocker / "x", "{}")
    assert str(err.value) == f"{blocker / 'x'}: cannot write: {blocker} is a file, not a directory"
    from tests.review.artifacts import artifact, live_list, shop, write

    doc = artifact(shop())
    stack = write(doc, tmp_path / "out")
    live = tmp_path / "live.json"
    live.write_text(json.dumps(live_list(doc)))
    argv = ["import", "--stack", str(stack), "--live", str(live), "--write", str(blocker / "x")]
    assert run(argv, capsys)[::2] == (
        2,
        f"netfence: error: {blocker / 'x'}: cannot write: {blocker} is a file, not a directory\n",
    )


def test_disk_full_names_the_output_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from constructs_lib.reports import text

    def full(value: Any, out: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(text, "write_verification", full)
    stack = write_stack(tmp_path, exact_stack())
    target = tmp_path / "report.txt"
    code, _, err = run(["verify", str(stack), "--output", str(target)], capsys)
    assert (code, err) == (2, f"netfence: error: {target}: cannot write: No space left on device\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_stale_temp_file_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    from constructs_lib.fsutil import write_atomic

    dead = tmp_path / ".r.txt.netfence-999999999-abc.tmp"
    dead.write_text("half")
    mine = tmp_path / f".r.txt.netfence-{os.getpid()}-abc.tmp"
    mine.write_text("in use")
    write_atomic(tmp_path / "r.txt", "done\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, "r.txt"]


# a cluster that never answers ----------------------------------------------------------


def test_kubeconfig_server_that_never_answers_times_out_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("kubernetes")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    kubeconfig = tmp_path / "kc.yaml"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    stack = write_stack(tmp_path, exact_stack())
    try:
        code, _, err = run(
            ["drift", "--desired", str(stack), "--kubeconfig", str(kubeconfig), "--timeout", "0.5"],
            capsys,
        )
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
    assert (code, err) == (
        2,
        f"netfence: error: {kubeconfig}: cannot list NetworkPolicy objects: {server} did not "
        "answer within 0.5 s (change the wait with --timeout)\n",
    )


def test_timeout_goes_with_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["drift", "--desired", "x", "--live", "y", "--timeout", "3"], capsys)
    assert (code, err) == (2, "netfence drift: error: --timeout goes with --kubeconfig\n")


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("POSIX file semantics")


def test_terminated_output_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal

    from constructs_lib.reports import text

    def killed(value: Any, out: Any) -> None:
        out.write("half a report")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(text, "write_verification", killed)
    stack = write_stack(tmp_path, exact_stack())
    target = tmp_path / "report.txt"
    code, _, err = run(["verify", str(stack), "--output", str(target)], capsys)
    assert (code, err) == (143, "netfence: terminated; no partial output was left\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_plan_diff_is_labelled_by_the_stack_name(tmp_path: Path) -> None:
    from constructs_lib.review.diff import diff_plan

    empty = {"format_version": "1.2", "resource_changes": []}
    inside = tmp_path / "cdktf.out" / "stacks" / "billing" / "plan.json"
    inside.parent.mkdir(parents=True)
    inside.write_text(json.dumps(empty))
    assert [s.name for s in diff_plan(inside).stacks] == ["billing"]
    loose = tmp_path / "prod-plan.json"
    loose.write_text(json.dumps(empty))
    assert [s.name for s in diff_plan(loose).stacks] == ["prod-plan"]
    stack = write_stack(tmp_path, exact_stack())
    assert [s.name for s in diff_plan(loose, stacks=[stack]).stacks] == ["prod"]


def test_plan_value_known_only_after_apply_is_refused(tmp_path: Path) -> None:
    after = {
        "metadata": [{"name": "p", "namespace": "shop", "uid": None}],
        "spec": [{"pod_selector": [{}], "policy_types": ["Ingress"]}],
    }
    unknown = {"metadata": [{"uid": True, "namespace": False}], "spec": [{"policy_types": [True]}]}
    change = {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown}
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "kubernetes_network_policy_v1.p",
                "mode": "managed",
                "type": "kubernetes_network_policy_v1",
                "change": change,
            }
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert refusal(path) == (
        f"{path} at resource_changes[0].change.after_unknown.spec[0].policy_types[0]: this value "
        "is known only after apply, so the plan cannot say what the policy will allow: make it "
        "a literal (or plan again once what it depends on exists)"
    )
    unknown["spec"] = [{}]  # only computed metadata unknown: read as usual
    path.write_text(json.dumps(plan))
    assert [p.key for p in load_policies(path)] == ["shop/p"]
