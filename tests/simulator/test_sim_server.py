"""The simulator's HTTP server: keep-alive connections, as Apache serves them (KeepAlive On)."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

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
