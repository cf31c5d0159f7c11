#!/usr/bin/python3
"""A libzmq ROUTER (through python3-zmq) with a security mechanism other than GSSAPI, for the
tests of what a GSSAPI peer sees when the mechanisms do not match:

    othermech.py zmtp-server --bind ENDPOINT --timeout-ms MS --mechanism NULL|PLAIN|CURVE

It prints {"event": "listening", "endpoint": ...} once bound and runs until SIGTERM or the
timeout; nothing it receives can pass a mechanism check, so it never delivers anything."""

from __future__ import annotations

import argparse
import json
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["zmtp-server"])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--timeout-ms", type=int, default=10000)
    parser.add_argument("--mechanism", choices=["NULL", "PLAIN", "CURVE"], default="NULL")
    args = parser.parse_args()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    if args.mechanism == "PLAIN":
        sock.plain_server = True
    elif args.mechanism == "CURVE":
        sock.curve_server = True
        sock.curve_secretkey = zmq.curve_keypair()[1]
    sock.bind(args.bind)
    endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    print(json.dumps({"event": "listening", "endpoint": endpoint}), flush=True)
    try:
        if sock.poll(args.timeout_ms):
            print(json.dumps({"event": "delivered", "parts": len(sock.recv_multipart())}),
                  flush=True)
    finally:
        sock.close(0)
        ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
