"""`netfence learn` end to end: generated app, synthesis in a subprocess, the proof, the CLI."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib import cli
from constructs_lib.brownfield import learn as learn_module
from constructs_lib.brownfield.learn import LearnResult, learn, prove, synthesize
from constructs_lib.brownfield.observe import load_endpoint_map

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"  # tests/golden holds artifacts only


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> LearnResult:
    out = tmp_path_factory.mktemp("learn") / "shop"
    return learn(
        DATA / "shop.hubble.jsonl",
        out,
        fmt="hubble",
        endpoints=load_endpoint_map(DATA / "endpoints.yaml"),
        pod_cidrs=["10.0.0.0/16"],
        service_cidrs=["10.96.0.0/12"],
    )


@pytest.mark.parametrize("name", ["main.py", "LEARNED.md", "cdktf.json"])
def test_generated_files_match_the_reviewed_golden(
    shop: LearnResult, update_golden: bool, name: str
) -> None:
    produced = (shop.out / name).read_text()
    golden = GOLDEN / f"learn-shop.{name}"
    if update_golden:
        golden.write_text(produced)
    assert produced == golden.read_text(), f"re-run with --update-golden and review {golden}"


def test_python_main_py_synthesized_both_artifacts_and_the_proof_holds(shop: LearnResult) -> None:
    stack = shop.out / "cdktf.out" / "stacks" / "learned"
    assert (stack / "cdk.tf.json").is_file() and (stack / "manifests.yaml").is_file()
    assert shop.proof.ok, shop.proof.findings
    assert shop.proof.artifacts == (str(stack / "cdk.tf.json"), str(stack / "manifests.yaml"))
    assert (shop.seen.read, shop.seen.learned, len(shop.intent.flows)) == (20, 11, 9)


def test_netfence_verify_agrees_on_the_written_artifact(shop: LearnResult) -> None:
    assert cli.main(["verify", str(shop.out / "cdktf.out")]) == 0


def _edited_copy(shop: LearnResult, tmp_path: Path, old: str, new: str) -> Path:
    out = tmp_path / "edited"
    shutil.copytree(shop.out, out, ignore=shutil.ignore_patterns("cdktf.out"))
    source = (out / "main.py").read_text()
    assert old in source
    (out / "main.py").write_text(source.replace(old, new))
    return out


def test_an_induced_difference_fails_the_proof(shop: LearnResult, tmp_path: Path) -> None:
    """A flow dropped from main.py and one added: the proof names both."""
    out = _edited_copy(
        shop,
        tmp_path,
        "    shop_api.allow_to(data_redis)\n",
        "    shop_worker.allow_to(shop_api)\n",
    )
    synthesize(out)
    proof = prove(shop.intent, out)
    assert not proof.ok
    assert (
        "cdk.tf.json: missing-flow: declared flow shop/api -> data/redis is not allowed on "
        "TCP 6379 (blocked at egress of shop/api and ingress of data/redis)"
    ) in [f.split(" [")[0] for f in proof.findings]
    assert any(
        f.startswith(
            "manifests.yaml: undeclared-flow: shop/worker -> shop/api is allowed on TCP 8080 "
            "but no flow is declared"
        )
        for f in proof.findings
    )


def test_cli_learns_csv_and_exits_0_without_loading_cdktf_itself(tmp_path: Path) -> None:
    """cdktf runs in the generated app's process only; learn itself stays artifact-side."""
    out = tmp_path / "csv"
    code = (
        "import sys\n"
        "from constructs_lib.cli import main\n"
        f"code = main(['learn', '--flows', {str(DATA / 'shop.csv')!r}, '--out', {str(out)!r}, "
        "'--pod-cidr', '10.0.0.0/16'])\n"
        "print(code, sorted(m for m in ('cdktf', 'jsii') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "learned 9 flows between 5 workloads and 2 external endpoints from 11 flows read "
        f"(1 dropped, not learned) -> {out}",
        "0 []",
    ]
    assert "ext_203_0_113_0_24 = ExternalEndpoint(" in (out / "main.py").read_text()


def test_cli_exits_1_when_the_generated_code_does_not_match_the_intent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = learn_module.render_app

    def lossy(intent):  # type: ignore[no-untyped-def]
        return real(intent).replace("    shop_worker.allow_to(data_postgres)\n", "")

    monkeypatch.setattr(learn_module, "render_app", lossy)
    code = cli.main(
        [
            "learn",
            "--flows",
            str(DATA / "shop.csv"),
            "--out",
            str(tmp_path / "o"),
            "--pod-cidr",
            "10.0.0.0/16",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "proof: cdk.tf.json: missing-flow: declared flow shop/worker -> data/postgres" in err
    assert "FAILED: " in (tmp_path / "o" / "LEARNED.md").read_text()


def test_cli_exits_3_not_1_when_the_generated_app_does_not_synthesize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(learn_module, "render_app", lambda intent: "raise SystemExit(7)\n")
    code = cli.main(["learn", "--flows", str(DATA / "shop.csv"), "--out", str(tmp_path / "o")])
    assert code == 3
    assert "netfence learn: internal error: the generated" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--flows", "MISSING.json"],
            "netfence: error: MISSING.json: cannot read: No such file or directory\n",
        ),
        (
            ["--flows", str(DATA / "shop.csv"), "--format", "hubble"],
            f"netfence: error: {DATA / 'shop.csv'} line 1: not valid JSON: "
            "Expecting value: line 1 column 1 (char 0)\n",
        ),
        (
            ["--flows", str(DATA / "shop.csv"), "--group-by", "bad key!"],
            "netfence: error: netfence learn: --group-by: label key 'bad key!' has an invalid "
            "name 'bad key!' (at most 63 characters: letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit)\n",
        ),
        (
            ["--flows", str(DATA / "shop.csv"), "--stack", "Bad_Stack"],
            "netfence: error: netfence learn: --stack: 'Bad_Stack' is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 63 characters)\n",
        ),
        (
            ["--flows", str(DATA / "shop.csv"), "--environment", ""],
            "netfence: error: netfence learn: --environment: '' is not an environment name\n",
        ),
        (
            ["--flows", str(DATA / "shop.csv"), "--endpoints", str(DATA / "shop.csv")],
            f"netfence: error: {DATA / 'shop.csv'}: expected a mapping of CIDR to endpoint "
            "name, e.g. '203.0.113.0/24: payments'\n",
        ),
    ],
)
def test_cli_exits_2_on_bad_input_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "o"
    assert cli.main(["learn", *args, "--out", str(out)]) == 2
    assert capsys.readouterr().err == message
    assert not out.exists()


def test_cli_exits_2_when_nothing_can_be_learned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "dropped.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,port,protocol,verdict\n"
        "shop,app=a,shop,app=b,80,TCP,DROPPED\n"
    )
    assert cli.main(["learn", "--flows", str(flows), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        f"netfence: error: {flows}: nothing to learn: 1 flows read (1 dropped), none a passed "
        "TCP/UDP/SCTP connection of a grouped pod\n"
    )


def test_long_reads_print_a_progress_line() -> None:
    stream = io.StringIO()
    flows = iter(range(5))
    assert list(learn_module._progress(flows, stream, 2)) == [0, 1, 2, 3, 4]  # type: ignore[arg-type]
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "netfence learn: 2 lines read",
        "netfence learn: 4 lines read",
    ]


def _big_capture(tmp_path: Path, copies: int, bad_at: int | None = None) -> Path:
    lines = (DATA / "shop.hubble.jsonl").read_text().splitlines()
    out = []
    for i in range(copies):
        out.extend(lines)
        if bad_at is not None and i == bad_at:
            out.append('{"flow": {"l4": {"TCP": {"destination_port": -1}}}}')
    file = tmp_path / "big.json"
    file.write_text("\n".join(out) + "\n")
    return file


def test_a_large_capture_read_in_parts_folds_to_the_same_as_one_pass(tmp_path: Path) -> None:
    file = _big_capture(tmp_path, 60)
    settings = ((("app.kubernetes.io/name", "app")), None, "default")
    one = learn_module.aggregate(file, "hubble", settings)  # type: ignore[arg-type]
    stream = io.StringIO()
    parts = learn_module.aggregate(
        file,
        "hubble",
        settings,
        jobs=2,
        progress=stream,
        part_bytes=200_000,  # type: ignore[arg-type]
    )
    assert len(stream.getvalue().splitlines()) > 5  # one progress line per part
    assert parts.seen == one.seen and parts.flows == one.flows
    assert parts.intent("s", "t") == one.intent("s", "t")


def test_a_bad_line_read_in_a_later_part_is_named_by_its_line_in_the_file(tmp_path: Path) -> None:
    file = _big_capture(tmp_path, 30, bad_at=20)
    settings = ((("app",)), None, "default")
    with pytest.raises(learn_module.FlowError) as info:
        learn_module.aggregate(file, "hubble", settings, jobs=2, part_bytes=200_000)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"{file} line {21 * 22 + 1}: flow.l4.TCP.destination_port: expected a port number "
        "1-65535, got -1"
    )


def test_awkward_names_ports_and_addresses_still_synthesize_and_prove(tmp_path: Path) -> None:
    """Label values that are no DNS names, colliding names, UDP/SCTP, IPv6, an internet map."""
    rows = [
        "src_namespace,src_labels,src_ip,dst_namespace,dst_labels,dst_ip,port,protocol",
        "a-b,app=Payment_API.v2,,a-b,app=payment-api-v2,,8080,TCP",
        "a-b,app=payment-api-v2,,a,app=b-c,,53,UDP",
        "a,app=b-c,,a-b,app=all-pods,,3868,SCTP",
        "a,app=b-c,,a,app=b-c,,7000,TCP",
        "a,app=b-c,,,,2001:db8::1,443,TCP",
        "a,app=b-c,,,,93.184.216.34,80,TCP",
        ",,2001:db8:1::9,a-b,app=all-pods,,443,TCP",
        "a-b,app=import,,a,app=b-c,,9000,TCP",
    ]
    flows = tmp_path / "awkward.csv"
    flows.write_text("\n".join(rows) + "\n")
    endpoints = tmp_path / "endpoints.yaml"
    endpoints.write_text("0.0.0.0/1: internet\n")
    out = tmp_path / "o"
    result = learn(
        flows,
        out,
        fmt="csv",
        endpoints=load_endpoint_map(endpoints),
        pod_cidrs=["10.0.0.0/16", "fd00:10::/48"],
        service_cidrs=["10.96.0.0/12"],
    )
    assert result.proof.ok, result.proof.findings
    source = (out / "main.py").read_text()
    assert (
        'a_b_payment_api_v2 = a_b.workload("payment-api-v2", labels={"app": "Payment_API.v2"})'
        in source
    )
    assert "a_b_payment_api_v2.allow_to(a_b_payment_api_v2_2)\n" in source
    assert "a_b_all_pods_app = a_b.workload(\n" in source  # 'all-pods' names selection policies
    assert 'a_b_import = a_b.workload("import", labels={"app": "import"})' in source
    assert 'a_b_c.allow_to(a.select({"app": "b-c"}), ports=[Port.tcp(7000)])' in source
    assert (
        'internet = ExternalEndpoint("internet", cidr="0.0.0.0/1", ports=[Port.tcp(80)], '
        "internet=True)"
    ) in source


def test_a_selector_that_would_widen_another_workload_fails_the_proof(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "overlap.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,port,protocol\n"
        "shop,app=web,shop,app.kubernetes.io/name=api;app=web,8080,TCP\n"
    )
    assert cli.main(["learn", "--flows", str(flows), "--out", str(tmp_path / "o")]) == 1
    assert (
        "proof: selector: the selector app=web of workload shop/web also selects pods of "
        "shop/api (grouped by app.kubernetes.io/name=api); group by one label with --group-by"
    ) in capsys.readouterr().err


def test_without_the_cluster_ranges_an_external_ipblock_may_admit_pods_and_the_proof_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "out.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,port,protocol\n"
        "shop,app=api,,,203.0.113.7,443,TCP\n"
    )
    assert cli.main(["learn", "--flows", str(flows), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "proof: cdk.tf.json: pod-ip: shop/api-egress egress rule" in err
    assert "declare the cluster's ranges with KubernetesCluster(pod_cidrs=[...]" in err
    report = (tmp_path / "o" / "LEARNED.md").read_text()
    assert "- No cluster ranges given (--pod-cidr, --service-cidr)" in report


def test_addresses_inside_the_cluster_ranges_are_reported_not_learned(tmp_path: Path) -> None:
    flows = tmp_path / "svc.csv"
    flows.write_text(
        "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,port,protocol\n"
        "shop,app=api,,,10.96.0.1,443,TCP\n"
        "shop,app=api,shop,app=db,,5432,TCP\n"
    )
    result = learn(
        flows, tmp_path / "o", fmt="csv", pod_cidrs=["10.0.0.0/16"], service_cidrs=["10.96.0.0/12"]
    )
    assert result.proof.ok, result.proof.findings
    assert result.intent.endpoints == ()
    assert dict(result.seen.cluster_addresses) == {"shop/app=api -> 10.96.0.0/24 on 443/TCP": 1}
