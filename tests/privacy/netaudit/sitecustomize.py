"""Test-only network audit: records every attempt to reach a host that is not this machine.

Put this directory on ``PYTHONPATH`` and set ``NET_AUDIT_FILE=<file>``: every Python process
(and its Python children, which inherit both) then installs an audit hook (PEP 578) for
``socket.getaddrinfo``, ``socket.connect`` and ``socket.sendto`` and appends one line per
non-loopback destination to the file: ``<event> <host> <port> pid=<pid> <argv>``. An empty
file after a run means: no third-party call. Loopback, unspecified addresses and Unix
sockets are not recorded. The hook never raises (an exception in an audit hook would abort
the audited operation).

(The variable is not called ``BUERGERBOT_...``: the settings reject unknown variables with
that prefix.)
"""

from __future__ import annotations

import os
import sys

ENV = "NET_AUDIT_FILE"
WATCHED = frozenset({"socket.getaddrinfo", "socket.connect", "socket.sendto"})
LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost",
                         "ip6-loopback"})


def is_local(host: object) -> bool:
    import ipaddress

    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%", 1)[0].lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False  # a host name other than localhost: resolving it may leave the machine
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _install(path: str) -> None:
    def hook(event: str, args: tuple[object, ...]) -> None:
        if event not in WATCHED:
            return
        try:
            if event == "socket.getaddrinfo":
                host, port = args[0], args[1]
            else:  # (socket, address)
                address = args[-1]
                if not isinstance(address, tuple) or len(address) < 2:
                    return  # AF_UNIX, netlink, ...
                host, port = address[0], address[1]
            if is_local(host):
                return
            line = f"{event} {host!s} {port!s} pid={os.getpid()} {' '.join(sys.argv[:4])}\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except Exception:  # noqa: BLE001, S110 - never break the audited call
            pass

    sys.addaudithook(hook)


if os.environ.get(ENV):
    _install(os.environ[ENV])
