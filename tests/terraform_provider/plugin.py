"""go-plugin serving: the handshake line, AutoMTLS and the controller service.

Terraform starts the provider with ``TF_PLUGIN_MAGIC_COOKIE`` and
``PLUGIN_CLIENT_CERT`` set and reads ONE line from its stdout::

    1|6|tcp|127.0.0.1:PORT|grpc|<server certificate, DER, base64 without padding>

Anything printed to stdout before that line breaks the handshake, so all
logging goes to stderr. Terraform's own client certificate is ECDSA P-521,
which grpcio's TLS stack cannot verify, so the server does not ask for one; it
serves a fresh self-signed P-256 certificate that Terraform pins from the line.
"""

from __future__ import annotations

import base64
import datetime
import logging
import os
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from tfplugin_proto import tfplugin6_5_pb2_grpc as pb_grpc

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL = 1
APP_PROTOCOL = 6
# A directory with key.pem, cert.pem and cert.der made by self_signed(): the test
# session makes one certificate for all its provider launches instead of one each.
CERT_DIR_ENV = "NETFENCE_TF_CERT_DIR"


def self_signed() -> tuple[bytes, bytes, bytes]:
    """(key PEM, certificate PEM, certificate DER) for localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "netfence test provider")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=24))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    )


def write_certificate(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in zip(("key.pem", "cert.pem", "cert.der"), self_signed(), strict=True):
        path = directory / name
        path.touch(mode=0o600)
        path.write_bytes(data)


def _certificate() -> tuple[bytes, bytes, bytes]:
    directory = os.environ.get(CERT_DIR_ENV)
    if not directory:
        return self_signed()
    base = Path(directory)
    key, pem, der = ((base / n).read_bytes() for n in ("key.pem", "cert.pem", "cert.der"))
    return key, pem, der


def handshake_line(port: int, cert_der: bytes) -> str:
    cert = base64.b64encode(cert_der).decode().rstrip("=")  # go-plugin: RawStdEncoding
    return f"{CORE_PROTOCOL}|{APP_PROTOCOL}|tcp|127.0.0.1:{port}|grpc|{cert}"


def _controller(stop: threading.Event) -> Any:
    """plugin.GRPCController/Shutdown: without it Terraform waits 2 s per process."""

    def shutdown(request: bytes, context: Any) -> bytes:
        stop.set()
        return b""  # google.protobuf.Empty

    handler = grpc.unary_unary_rpc_method_handler(
        shutdown, request_deserializer=lambda b: b, response_serializer=lambda b: b
    )
    return grpc.method_handlers_generic_handler("plugin.GRPCController", {"Shutdown": handler})


def serve() -> int:  # returns only on a bad launch; otherwise the process ends here
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        print(
            "This is the netfence test provider for Terraform; Terraform starts it, "
            "not a person (see docs/terraform.md).",
            file=sys.stderr,
        )
        return 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Terraform handles Ctrl-C, then shuts us down
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if os.environ.get("TF_LOG") else logging.WARNING,
        format="[%(levelname)s] netfence-test-provider: %(message)s",
    )
    from .provider import Provider  # after the cookie check: keeps a stray launch cheap

    key_pem, cert_pem, cert_der = _certificate()
    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    pb_grpc.add_ProviderServicer_to_server(Provider(), server)
    server.add_generic_rpc_handlers((_controller(stop),))
    credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)], require_client_auth=False)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    sys.stdout.write(handshake_line(port, cert_der) + "\n")
    sys.stdout.flush()
    stop.wait()
    server.stop(grace=0.2).wait()
    # Terraform waits for the process to end; interpreter teardown with gRPC's
    # threads costs a noticeable fraction of a second per launch, and there is
    # nothing left to flush (every cluster write finished inside its RPC).
    sys.stderr.flush()
    os._exit(0)
