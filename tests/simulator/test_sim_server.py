"""The simulator's HTTP server: keep-alive connections, as Apache serves them (KeepAlive On), and localhost on
both IPv4 and IPv6."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from urllib.parse import urlsplit

import pytest

from crm_simulator import Simulator


def test_one_connection_serves_request_after_request_whatever_each_body_and_reply():
    with Simulator("healthy", tls=False) as simulator:
        address = urlsplit(simulator.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.request("GET", f"{address.path}/api.php/version")
        assert connection.getresponse().read() and connection.sock is not None
        socket = connection.sock
        # refused before its body is read: the body is skipped, and the next request is read whole
        connection.request("POST", f"{address.path}/api.php/data/Contact", body=json.dumps({"data": {"x": "y" * 5000}}),
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().read() and connection.sock is socket
        connection.request("GET", f"{address.path}/api.php/version")
        reply = connection.getresponse()
        assert reply.status == 200 and "version" in json.loads(reply.read()) and connection.sock is socket
        connection.request("GET", f"{address.path}/api.php/version", headers={"Connection": "close"})
        reply = connection.getresponse()
        assert reply.getheader("Connection") == "close" and reply.read() and reply.will_close
        connection.close()
        paths = [path for _, path, _ in simulator.stats.requests]
        assert paths == ["/api.php/version", "/api.php/data/Contact", "/api.php/version", "/api.php/version"]


def test_a_malformed_request_is_answered_400_and_the_connection_closes():
    with Simulator("healthy", tls=False) as simulator:
        address = urlsplit(simulator.url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
            connection.sendall(b"NOT A REQUEST\r\n\r\n")
            reply = b""
            while chunk := connection.recv(65536):  # ends when the server closes the connection
                reply += chunk
    assert b"400 - Bad request syntax" in reply


def test_localhost_answers_on_ipv4_and_ipv6_at_the_one_port_the_url_names():
    probe = socket.socket(socket.AF_INET6) if socket.has_ipv6 else None
    try:
        if probe is None:
            pytest.skip("this host has no IPv6")
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this host has no IPv6 loopback")
    finally:
        if probe is not None:
            probe.close()
    with Simulator("healthy") as simulator:
        address = urlsplit(simulator.url)
        assert address.hostname == "localhost"
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            with socket.socket(family) as client:  # as PHP or Windows connect to whichever localhost comes first
                client.settimeout(10)
                client.connect((host, address.port))
                context = ssl.create_default_context(cafile=simulator.ca_bundle)
                with context.wrap_socket(client, server_hostname="localhost") as tls:
                    tls.sendall(f"GET {address.path}/api.php/version HTTP/1.1\r\nHost: localhost\r\n"
                                "Connection: close\r\n\r\n".encode())
                    assert tls.recv(64).startswith(b"HTTP/1.1 200"), host
        assert simulator.stats.count("GET", "/api.php/version") == 2  # one simulated server behind both
