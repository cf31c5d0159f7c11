"""gssconform: the conformance runner for ZMTP GSSAPI and XMPP XEP-0233 candidates.

Modules, one job each:
    tomlsrc      TOML loading with file:line:key error locations
    schema       small typed accessors that raise InputError at the right line
    scenario     scenario files (cases, references, checks) and their validation
    requirements the requirement catalogue (quotes of MUST/SHOULD statements)
    candidate    candidate profiles, placeholders, expectations
    realm        the throwaway Kerberos realm of a run (wraps realm-setup/krbrealm.py)
    process      starting, reading and killing process groups within deadlines
    observe      turning what processes did into observations
    verdict      verdict rules over observations, expectations and exit codes
    execute      running one case against one candidate
    run          a whole run: selection, sharding, workers, progress, reports
    report_*     one writer per report format
    cli          the `gssconform` command line
"""

VERSION = "0.1.0"
