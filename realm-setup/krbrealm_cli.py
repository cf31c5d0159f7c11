"""The krbrealm command (realm-setup/krbrealm runs main()): a throwaway MIT Kerberos realm in one
directory, from the shell.

    krbrealm up DIR [--realm R] [--enctypes E[,E...]] [--principal SPEC ...]
                    [--max-life S] [--clockskew S] [--json]
    krbrealm down DIR
    krbrealm env DIR [--client P] [--acceptor P] [--json]
    krbrealm log DIR [--json]
    krbrealm add DIR --principal SPEC ...

`up` leaves the KDC running (detached, pid in DIR/kdc.pid) and prints `export K=V` lines for
`eval`; `down` stops it and removes DIR. Exit codes: 0 ok, 2 realm failure, 3 usage error.

Every `up` and `down` pays for the start of the command, so it is kept small: this is a module
(its bytecode cached, unlike a script's), and the command line is read by a small parser for the
plain shapes (`--opt V`, `--opt=V`, flags, DIR) and only anything else (help, abbreviations,
errors) by argparse, built from the same table: argparse is not imported on the hot path, and
what it says and exits with stays the same (docs/realm.md, "Command line").
"""

import json
import shlex
import sys
import types
import warnings

import krbrealm

EXIT_OK, EXIT_REALM, EXIT_USAGE = 0, 2, 3

# Option kinds: a string, a repeatable string (a list), a positive number of seconds, a flag.
VALUE, LIST, SECONDS, FLAG = "value", "list", "seconds", "flag"

# command: (help, [(option, kind, argparse keywords: default, metavar, help, required)])
COMMANDS = {
    "up": ("create the realm in DIR and start its KDC (detached)", [
        ("--realm", VALUE, {"default": krbrealm.DEFAULT_REALM}),
        ("--enctypes", VALUE, {"default": ",".join(krbrealm.DEFAULT_ENCTYPES),
                               "help": "comma-separated, preferred first"}),
        ("--principal", LIST, {"default": [], "metavar": "SPEC",
                               "help": '"NAME[@REALM][:maxlife=S,password=PW]", repeatable'}),
        ("--domain", LIST, {"metavar": "DOMAIN", "help": "a [domain_realm] domain, repeatable "
                                                         "(default: localhost, example.com)"}),
        ("--max-life", SECONDS, {"metavar": "S"}),
        ("--clockskew", SECONDS, {"metavar": "S"}),
        ("--json", FLAG, {"help": "print the realm as JSON"}),
    ]),
    "down": ("stop the realm's KDC and remove DIR", []),
    "env": ("print the environment of a client and/or acceptor", [
        ("--client", VALUE, {"metavar": "P"}),
        ("--acceptor", VALUE, {"metavar": "P"}),
        ("--json", FLAG, {}),
    ]),
    "log": ("print the KDC's AS_REQ/TGS_REQ lines", [
        ("--json", FLAG, {"help": "as a JSON list of requests"}),
    ]),
    "add": ("add principals to a running realm", [
        ("--principal", LIST, {"required": True, "metavar": "SPEC"}),
        ("--json", FLAG, {}),
    ]),
}


def _seconds(text: str) -> int | None:
    """text as a positive number of seconds, or None."""
    return int(text) if text.isdigit() and int(text) > 0 else None


def _parse_plain(argv: list[str]) -> types.SimpleNamespace | None:
    """argv parsed exactly as argparse would parse it, for the shapes that need no judgement;
    None for anything else (help, an abbreviation, a missing or bad value, '--', an unknown
    option or command, a value or DIR starting with '-'): argparse then decides."""
    if not argv or argv[0] not in COMMANDS:
        return None
    options = {name: (kind, extra) for name, kind, extra in COMMANDS[argv[0]][1]}
    values = {name[2:].replace("-", "_"): False if kind == FLAG else extra.get("default")
              for name, (kind, extra) in options.items()}
    directory = None
    args = iter(argv[1:])
    for arg in args:
        if not arg.startswith("-"):
            if directory is not None:
                return None
            directory = arg
            continue
        name, eq, value = arg.partition("=")
        if name not in options:
            return None
        kind, extra = options[name]
        dest = name[2:].replace("-", "_")
        if kind == FLAG:
            if eq:
                return None
            values[dest] = True
            continue
        if not eq:
            value = next(args, "-")
            if value.startswith("-"):
                return None
        if kind == SECONDS:
            values[dest] = _seconds(value)
            if values[dest] is None:
                return None
        elif kind == LIST:
            values[dest] = [*(values[dest] or []), value]
        else:
            values[dest] = value
    if directory is None or any(extra.get("required") and values[name[2:].replace("-", "_")]
                                is None for name, (kind, extra) in options.items()):
        return None
    return types.SimpleNamespace(command=argv[0], directory=directory, **values)


def _parse_argparse(argv: list[str]) -> object:
    """argv parsed by argparse from COMMANDS: help, and usage errors (exit 3) with its words."""
    import argparse  # noqa: PLC0415 (only off the hot path, see the module docstring)

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def positive(text: str) -> int:
        seconds = _seconds(text)
        if seconds is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
        return seconds

    actions = {VALUE: {}, LIST: {"action": "append"}, SECONDS: {"type": positive},
               FLAG: {"action": "store_true"}}
    parser = Parser(prog="krbrealm", description="Throwaway MIT Kerberos realm in a directory.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command, (text, options) in COMMANDS.items():
        cmd = sub.add_parser(command, help=text)
        cmd.add_argument("directory", metavar="DIR")
        for name, kind, extra in options:
            cmd.add_argument(name, **actions[kind], **extra)
    return parser.parse_args(argv)


def _print_env(env: dict[str, str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(env, indent=2))
    else:
        for key, value in env.items():
            print(f"export {key}={shlex.quote(value)}")


def _describe(realm: krbrealm.Realm) -> dict[str, object]:
    return {
        "realm": realm.realm,
        "directory": str(realm.directory),
        "kdc_port": realm.kdc_port,
        "kdc_pid": realm.kdc_pid,
        "env": realm.env(),
        "principals": [_principal(p) for p in realm.principals],
    }


def _principal(p: krbrealm.Principal) -> dict[str, object]:
    return {"name": p.name, "keytab": str(p.keytab), "ccache": str(p.ccache),
            "maxlife": p.maxlife}


def _run(args: types.SimpleNamespace) -> int:
    if args.command == "up":
        try:
            realm = krbrealm.Realm(
                args.directory, realm=args.realm,
                enctypes=[e.strip() for e in args.enctypes.split(",") if e.strip()],
                principals=args.principal, max_life=args.max_life, clockskew=args.clockskew,
                domains=args.domain or krbrealm.DEFAULT_DOMAINS)
        except krbrealm.RealmError as e:  # a bad option value: the caller's input
            print(f"krbrealm: {e}", file=sys.stderr)
            return EXIT_USAGE
        # The detached KDC is meant to outlive this process: no "still running" warning for it.
        warnings.filterwarnings("ignore", "subprocess .* is still running", ResourceWarning)
        realm.start(detached=True)
        if args.json:
            print(json.dumps(_describe(realm), indent=2))
        else:
            _print_env(realm.env(), False)
        return EXIT_OK
    realm = krbrealm.Realm.attach(args.directory)
    if args.command == "down":
        realm.stop(remove=True)
    elif args.command == "env":
        try:
            env = realm.env(client=args.client, acceptor=args.acceptor)
        except KeyError as e:
            print(f"krbrealm: {e.args[0]}", file=sys.stderr)
            return EXIT_USAGE
        _print_env(env, args.json)
    elif args.command == "log":
        requests = realm.kdc_log()
        if args.json:
            print(json.dumps([r._asdict() for r in requests], indent=2))
        else:
            for r in requests:
                print(f"{r.time}  {r.kind:7}  {r.client} -> {r.server}  {r.outcome}")
    elif args.command == "add":
        added = realm.add_principals(args.principal)
        if args.json:
            print(json.dumps([_principal(p) for p in added], indent=2))
        else:
            for p in added:
                print(f"{p.name}\t{p.keytab}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 realm failure, 3 usage error)."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parse_plain(argv) or _parse_argparse(argv)
    try:
        return _run(args)  # type: ignore[arg-type]
    except krbrealm.PrincipalSpecError as e:
        print(f"krbrealm: {e}", file=sys.stderr)
        return EXIT_USAGE
    except krbrealm.RealmError as e:
        print(f"krbrealm: {e}", file=sys.stderr)
        return EXIT_REALM
