"""Ports: the closed set of protocols and the "common values plus custom" Port."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation


class Protocol(enum.Enum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"

    @classmethod
    def parse(cls, path: str, field: str, value: object) -> Protocol:
        if isinstance(value, Protocol):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise InvalidIntentError(
            path, field, f"unknown protocol {value!r} (allowed: TCP, UDP, SCTP)"
        )


def _number(path: str, field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidIntentError(
            path, field, f"{value!r} is not a port number (an int from 1 to 65535, e.g. 8080)"
        )
    if not 1 <= value <= 65535:
        raise InvalidIntentError(
            path, field, f"port {value!r} is outside the allowed range 1-65535"
        )
    return value


_FACTORIES = "Port.tcp(443), Port.udp(53), Port.tcp_range(8000, 8100) or Port.named('http')"


def _check(port: Port) -> None:
    where = "Port"
    number, end, name = port.number, port.end, port.name
    if not isinstance(port.protocol, Protocol) and not (
        port.protocol is None and number is None and end is None and name is None
    ):
        raise InvalidIntentError(
            where, "protocol", f"{port.protocol!r} is not a Protocol; build ports with {_FACTORIES}"
        )
    if number is not None:
        _number(where, "number", number)
    if name is not None:
        validation.port_name(where, "name", name)
    if end is None:
        return
    last = _number(where, "end", end)
    if number is None:
        raise InvalidIntentError(
            where,
            "end",
            "a range needs a numeric start: Kubernetes endPort works only with a numeric port",
        )
    if last < number:
        raise InvalidIntentError(
            where, "end", f"end port {last} is below start port {number} (end must be >= start)"
        )
    if name is not None:
        raise InvalidIntentError(where, "name", "a port range cannot carry a container port name")
    if last == number:  # one port: the value the factories build for it
        object.__setattr__(port, "end", None)


@dataclass(frozen=True)
class Port:
    """A port a workload listens on, or a port a flow allows.

    Build one with the factories: ``Port.tcp(443)``, ``Port.udp(53)``,
    ``Port.sctp(3868)``, ``Port.tcp_range(8000, 8100)``, ``Port.named("http")``.
    A numeric port may carry the container port's ``name`` so flows can refer
    to it by name. ``Port.all()``, ``Port.all_tcp()`` and ``Port.all_udp()``
    allow any port (of any protocol, or of one); flows take them only when
    passed explicitly, never as a default.
    """

    protocol: Protocol | None  # None only for Port.all(): any protocol
    number: int | None = None
    end: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        """No invalid Port exists, however it was built: the factories check first
        to name themselves in messages; this catches ``Port(...)`` called directly."""
        _check(self)

    @classmethod
    def tcp(cls, number: int, *, name: str | None = None) -> Port:
        return cls.of(Protocol.TCP, number, name=name)

    @classmethod
    def udp(cls, number: int, *, name: str | None = None) -> Port:
        return cls.of(Protocol.UDP, number, name=name)

    @classmethod
    def sctp(cls, number: int, *, name: str | None = None) -> Port:
        return cls.of(Protocol.SCTP, number, name=name)

    @classmethod
    def all(cls) -> Port:
        """Any port of any protocol: the rule gets no ports list."""
        return cls(None)

    @classmethod
    def all_tcp(cls) -> Port:
        """Any TCP port: a ports entry with the protocol and no port."""
        return cls(Protocol.TCP)

    @classmethod
    def all_udp(cls) -> Port:
        """Any UDP port: a ports entry with the protocol and no port."""
        return cls(Protocol.UDP)

    @classmethod
    def tcp_range(cls, start: int, end: int) -> Port:
        return cls.range(Protocol.TCP, start, end)

    @classmethod
    def udp_range(cls, start: int, end: int) -> Port:
        return cls.range(Protocol.UDP, start, end)

    @classmethod
    def of(
        cls,
        protocol: Protocol | str,
        port: int | str,
        *,
        end: int | None = None,
        name: str | None = None,
    ) -> Port:
        """The general form, for ports read from configuration.

        ``port`` is a number or a container port name; ``end`` makes a range
        (numbers only); ``name`` names a numeric port.
        """
        where = f"Port.{str(getattr(protocol, 'value', protocol)).lower()}"
        proto = Protocol.parse(where, "protocol", protocol)
        if isinstance(port, str):
            if end is not None:
                raise InvalidIntentError(
                    where,
                    "end",
                    f"a range on the named port {port!r} is not possible: "
                    "Kubernetes endPort works only with a numeric port",
                )
            return cls(proto, None, None, validation.port_name(where, "port", port))
        if end is not None:
            if name is not None:
                raise InvalidIntentError(
                    where, "name", "a port range cannot carry a container port name"
                )
            return cls.range(proto, port, end)
        num = _number(where, "port", port)
        if name is not None:
            name = validation.port_name(where, "name", name)
        return cls(proto, num, None, name)

    @classmethod
    def range(cls, protocol: Protocol | str, start: int, end: int) -> Port:
        where = f"Port.{str(getattr(protocol, 'value', protocol)).lower()}_range"
        proto = Protocol.parse(where, "protocol", protocol)
        first = _number(where, "start", start)
        last = _number(where, "end", end)
        if last < first:
            raise InvalidIntentError(
                where, "end", f"end port {last} is below start port {first} (end must be >= start)"
            )
        return cls(proto, first, None if last == first else last, None)

    @classmethod
    def named(cls, name: str, protocol: Protocol | str = Protocol.TCP) -> Port:
        """A container port by name; resolves against the destination's ports."""
        proto = Protocol.parse("Port.named", "protocol", protocol)
        return cls(proto, None, None, validation.port_name("Port.named", "name", name))

    def __repr__(self) -> str:
        """The factory call that builds this port, as the user would write it."""
        if self.protocol is None or (self.number is None and self.name is None):
            return f"Port.all_{self.protocol.value.lower()}()" if self.protocol else "Port.all()"
        proto = self.protocol.value.lower()
        if self.number is None:
            tail = "" if self.protocol is Protocol.TCP else f", {self.protocol.value!r}"
            return f"Port.named({self.name!r}{tail})"
        if self.end is not None:
            return f"Port.range({self.protocol.value!r}, {self.number}, {self.end})"
        named = f", name={self.name!r}" if self.name is not None else ""
        return f"Port.{proto}({self.number}{named})"

    @property
    def is_named(self) -> bool:
        return self.number is None and self.name is not None

    @property
    def is_any(self) -> bool:
        """``Port.all()``, ``Port.all_tcp()`` or ``Port.all_udp()``."""
        return self.number is None and self.name is None

    def matches(self, other: Port) -> bool:
        """Whether a flow port ``self`` refers to the declared port ``other``."""
        if self.is_any:
            return self.protocol is None or self.protocol == other.protocol
        if self.protocol != other.protocol:
            return False
        if self.number is None:
            return self.name == other.name
        if other.number is None:
            return False
        last = self.end or self.number
        return self.number <= other.number and (other.end or other.number) <= last

    def sort_key(self) -> tuple[str, int, int, str]:
        proto = self.protocol.value if self.protocol is not None else ""
        return (proto, self.number or 0, self.end or 0, self.name or "")

    def to_record(self) -> dict[str, Any]:
        """The artifact form (docs/artifact.md)."""
        if self.protocol is None:
            return {"any_port": True, "any_protocol": True}
        out: dict[str, Any] = {"any_port": True} if self.is_any else {}
        if self.number is not None:
            out["port"] = self.number
        if self.end is not None:
            out["end_port"] = self.end
        if self.name is not None:
            out["name"] = self.name
        out["protocol"] = self.protocol.value
        return out

    def __str__(self) -> str:
        if self.protocol is None:
            return "any port"
        if self.is_any:
            return f"any port/{self.protocol.value}"
        if self.number is None:
            return f"{self.name}/{self.protocol.value}"
        if self.end is not None:
            return f"{self.number}-{self.end}/{self.protocol.value}"
        return f"{self.number}/{self.protocol.value}"
