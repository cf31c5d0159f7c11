"""Candidate profiles: how to start an implementation in each role (format: docs/candidates.md)."""

from __future__ import annotations

import difflib
import fnmatch
import os
import string
from dataclasses import dataclass, field

from .errors import InputError
from .tomlsrc import Doc, Node

PLACEHOLDERS = {
    "gsspeer": "the reference peer program",
    "build": "the build directory ($GSSCONFORM_BUILD)",
    "dir": "the folder of the profile",
    "endpoint": "tcp://HOST:PORT of the server side of the case",
    "host": "the server's address (127.0.0.1)",
    "port": "the server's TCP port",
    "principal": "this side's own (client) principal, with @REALM",
    "service_principal": "this side's acceptor principal, with @REALM",
    "keytab": "the acceptor keytab of this side",
    "client_keytab": "the client keytab of this side",
    "ccache": "this side's credential cache (FILE:...) for the case",
    "realm": "the Kerberos realm name",
    "domain": "the service domain of the case (XMPP)",
    "hostname": "the server host name of the case (XMPP <hostname/>)",
    "tls_cert": "a TLS certificate (PEM) made for the run",
    "tls_key": "its private key (PEM)",
    "tls_ca": "the CA certificate that signed it (PEM)",
    "transcript": "a file for a JSON-lines frame transcript",
    "workdir": "the case's artifact folder",
    "fault": "one injected fault name (fault_args only)",
}
READY = ("listening", "port", "none")
# Optional features a profile may claim (docs/candidates.md); a run also accepts any name a
# loaded case asks for. Anything else is a typo that would make cases UNIMPLEMENTED unseen.
FEATURES = ("plaintext", "zap", "nametype-hostbased", "nametype-user", "nametype-krb5",
            "multipart", "dealer-router", "req-rep", "pub-sub", "push-pull", "transcript")


@dataclass
class Role:
    """The command that starts a candidate in one role."""
    name: str
    command: list[str]
    ready: str
    env: dict[str, str] = field(default_factory=dict)
    line: int | None = None  # of `command` in the profile, for input errors


@dataclass
class Expectation:
    """A profile's expectation for matching cases: disabled (SKIP) or xfail."""
    case: str
    role: str | None
    disabled: str | None
    xfail: str | None
    message: str | None
    source: str
    candidate: str | None = None   # the entry's `candidate` key (expectation files)

    def matches(self, case_id: str, role: str) -> bool:
        """Whether this expectation applies to the case id (glob) in that candidate role."""
        return fnmatch.fnmatchcase(case_id, self.case) and self.role in (None, role)


@dataclass
class Profile:
    """A candidate implementation under test (or the reference peer)."""
    name: str
    path: str
    description: str
    roles: dict[str, Role]
    features: list[str]
    version_command: list[str]
    fault_args: list[str]
    expectations: list[Expectation]

    @property
    def folder(self) -> str:
        """The folder of the profile file ({dir})."""
        return os.path.dirname(os.path.abspath(self.path))

    def expectation(self, case_id: str, role: str) -> Expectation | None:
        """The last expectation matching the case (later entries override earlier ones)."""
        found = None
        for exp in self.expectations:
            if exp.matches(case_id, role):
                found = exp
        return found


def check_placeholders(node: Node, key: str, values: list[str],
                       extra: set[str] = frozenset()) -> None:
    """InputError at node/key for a malformed or unknown {placeholder} in any of values."""
    for value in values:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as err:
            raise node.error(f"bad placeholder syntax in {value!r}: {err}", key) from None
        for name in fields:
            if name not in PLACEHOLDERS or (name == "fault" and "fault" not in extra):
                raise node.error(f"unknown placeholder {{{name}}} in {value!r} (known: "
                                 f"{', '.join(sorted(set(PLACEHOLDERS) - {'fault'}))})", key)


def _role(node: Node, name: str) -> Role:
    node.keys({"command", "ready", "env"}, {"command"})
    command = node.strings("command", required=True)
    if not command:
        raise node.error("must not be empty", "command")
    check_placeholders(node, "command", command)
    env = node.get("env", dict, {})
    for key, value in env.items():
        if not isinstance(value, str):
            raise node.error(f"value of {key} must be a string", "env")
    check_placeholders(node, "env", list(env.values()))
    default_ready = "listening" if name.endswith("server") else "none"
    return Role(name=name, command=command, ready=node.choice("ready", READY, default_ready),
                env=dict(env), line=node.doc.line_of(node.path + ("command",)))


def parse_expectations(root: Node, candidate: str | None,
                       roles: dict[str, Role] | None = None) -> list[Expectation]:
    """The [[expectation]] entries of a profile or expectation file (for this candidate); a
    profile passes its ROLES, and an entry naming another role is an input error."""
    out = []
    for node in root.children("expectation"):
        node.keys({"case", "role", "candidate", "disabled", "xfail", "message"}, {"case"})
        role = node.get("role", str)
        if roles is not None and role is not None and role not in roles:
            raise node.error(f"role '{role}' is not one of this profile's roles "
                             f"({', '.join(sorted(roles))})", "role")
        disabled = node.get("disabled", str)
        xfail = node.get("xfail", str)
        if (disabled is None) == (xfail is None):
            raise node.error("needs exactly one of 'disabled' or 'xfail' (with the reason)")
        only = node.get("candidate", str)
        if only is not None and candidate is not None and only != candidate:
            continue
        out.append(Expectation(case=node.get("case", str, required=True),
                               role=role, disabled=disabled, xfail=xfail,
                               message=node.get("message", str),
                               source=f"{node.doc.path}:{node.doc.line_of(node.path)}",
                               candidate=only))
    return out


def load_profile(path: str) -> Profile:
    """Load and validate a profile.toml; InputError names file, line and key."""
    doc = Doc.load(path)
    root = doc.root()
    root.keys({"candidate", "roles", "expectation"}, {"candidate", "roles"})
    meta = root.child("candidate", required=True)
    meta.keys({"name", "description", "features", "version_command", "fault_args"})
    name = meta.get("name", str) or os.path.basename(os.path.dirname(os.path.abspath(path)))
    version_command = meta.strings("version_command")
    check_placeholders(meta, "version_command", version_command)
    fault_args = meta.strings("fault_args", ["--fault", "{fault}"])
    check_placeholders(meta, "fault_args", fault_args, {"fault"})
    roles_node = root.child("roles", required=True)
    roles = {}
    for role_name in roles_node.value:
        role_node = roles_node.child(role_name)
        roles[role_name] = _role(role_node, role_name)
    if not roles:
        raise roles_node.error("must define at least one role, e.g. [roles.zmtp-server]")
    return Profile(name=name, path=path, description=meta.get("description", str, ""),
                   roles=roles, features=meta.strings("features"),
                   version_command=version_command, fault_args=fault_args,
                   expectations=parse_expectations(root, None, roles))


def load_expectation_file(path: str, profile: Profile) -> None:
    """Append the entries of an expectation file that apply to the profile's candidate."""
    doc = Doc.load(path)
    root = doc.root()
    root.keys({"expectation"})
    profile.expectations.extend(parse_expectations(root, profile.name))


def check_expectation_file(path: str, profiles: list[Profile], case_ids: list[str]) -> None:
    """InputError (file, line, key) for an entry of an expectation file that would silently
    apply nothing: a `candidate` not in the run, a `role` none of its candidates plays, a
    `case` glob that matches no case of the scenario tree (CASE_IDS)."""
    root = Doc.load(path).root()
    root.keys({"expectation"})
    names = {p.name: p for p in profiles}
    for exp, node in zip(parse_expectations(root, None), root.children("expectation")):
        if exp.candidate is not None and exp.candidate not in names:
            raise node.error(f"candidate '{exp.candidate}' is not in this run (candidates: "
                             f"{', '.join(sorted(names))})", "candidate")
        targets = [names[exp.candidate]] if exp.candidate else profiles
        roles = {r for p in targets for r in p.roles}
        if exp.role is not None and exp.role not in roles:
            raise node.error(f"role '{exp.role}' is played by no candidate it applies to "
                             f"(roles: {', '.join(sorted(roles))})", "role")
        if not any(fnmatch.fnmatchcase(case_id, exp.case) for case_id in case_ids):
            raise node.error(f"case glob '{exp.case}' matches no case of the scenario tree",
                             "case")


def check_features(profile: Profile, used: set[str]) -> list[str]:
    """Claimed features that are neither documented (FEATURES) nor asked for by a case (USED):
    InputError for one that looks like a misspelt known name (it would leave the cases needing
    the real one UNIMPLEMENTED), else a warning line to print (a feature of a scenario tree
    other than the one loaded)."""
    known = set(FEATURES) | used
    warnings = []
    for name in profile.features:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        if close:
            raise InputError(f"unknown feature '{name}' (did you mean '{close[0]}'? known: "
                             f"{', '.join(sorted(known))})", profile.path, None,
                             "candidate.features")
        warnings.append(f"{profile.path}: candidate.features: '{name}' is asked for by no case "
                        "and is not a documented feature")
    return warnings


def bundled(candidates_dir: str) -> list[str]:
    """Folder names of the bundled candidates that have a profile.toml, sorted."""
    if not os.path.isdir(candidates_dir):
        return []
    return sorted(name for name in os.listdir(candidates_dir)
                  if os.path.isfile(os.path.join(candidates_dir, name, "profile.toml")))


def resolve(spec: str, candidates_dir: str) -> str:
    """A --candidate value (bundled folder name, profile path or folder) -> profile path."""
    if os.sep in spec or spec.endswith(".toml") or os.path.exists(spec):
        path = os.path.join(spec, "profile.toml") if os.path.isdir(spec) else spec
    else:
        path = os.path.join(candidates_dir, spec, "profile.toml")
    if not os.path.isfile(path):
        known = ", ".join(bundled(candidates_dir)) or "none"
        raise InputError(f"no candidate profile '{spec}' (bundled: {known})", path)
    return path


def expand(template: list[str], values: dict[str, str]) -> list[str]:
    """Fill placeholders; a value the case cannot provide raises KeyError with its name."""
    return [item.format_map(values) for item in template]
