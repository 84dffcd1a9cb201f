"""`python -m engine hash-password`: a password hash for `.streamlit/secrets.toml`."""
from __future__ import annotations

import argparse
import getpass
import json
import re
import sys

from cli.common import EXIT_OK, EXIT_REJECTED
from engine.access import ROLES, hash_password


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="print a whole [users.NAME] table, not only the hash line")
    parser.add_argument("--role", choices=ROLES, default="rep")
    parser.add_argument("--owner", help="for a rep: the customers.owner value they look after")


def run(args) -> int:
    """Read a password (hidden at a terminal, else one line of stdin) and print its TOML."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("engine hash-password: the two passwords differ", file=sys.stderr)
            return EXIT_REJECTED
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("engine hash-password: empty password", file=sys.stderr)
        return EXIT_REJECTED
    line = f"password_hash = {json.dumps(hash_password(password))}"
    if args.user is None:
        print(line)
        return EXIT_OK
    name = args.user if re.fullmatch(r"[A-Za-z0-9_-]+", args.user) else json.dumps(args.user)
    print(f"[users.{name}]\n{line}\nrole = {json.dumps(args.role)}")
    if args.owner:
        print(f"owner = {json.dumps(args.owner, ensure_ascii=False)}")
    return EXIT_OK
