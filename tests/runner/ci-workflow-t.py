#!/usr/bin/env python3
"""docs/ci.md's GitHub Actions workflow, run as written (issue 15): the "Run our shard" script
of every matrix shard, then the report job's "Merge the shards" script, in a workspace laid out
as the workflow's checkouts leave it. Only the size differs: gssconform/gssconform there is a
wrapper that gives the runner a four-case scenario tree (tests/runner/fixtures/ci, real Kerberos
and the real libzmq shim as "mylib-shim") instead of the whole catalogue. Then only the merged
folder is kept (what the report artifact uploads) and every link of its pages must resolve.
The doc's example profile and expectation file are checked against the real catalogue."""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import taptest  # noqa: E402

REPO = taptest.REPO
sys.path.insert(0, os.path.join(REPO, "runner"))
from gssconform.candidate import check_expectation_file, load_profile  # noqa: E402
from gssconform.scenario import load_spec  # noqa: E402

DOC = os.path.join(REPO, "docs", "ci.md")
TREE = os.path.join(HERE, "fixtures", "ci")
SHIM = os.path.join(REPO, "build", "candidates", "libzmq", "libzmq-shim")
OUTER_TIMEOUT = 300  # bound on one workflow step (not a timing assertion)


def doc_text() -> str:
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def fenced(text: str, lang: str, after: str = "") -> str:
    """The first ```LANG block after the text AFTER."""
    start = text.index(after) if after else 0
    match = re.compile(rf"```{lang}\n(.*?)```", re.S).search(text, start)
    assert match, f"no ```{lang} block after {after!r} in docs/ci.md"
    return match.group(1)


def step_script(workflow: str, name: str) -> str:
    """The `run:` script of the step called NAME (block or one line), dedented."""
    lines = workflow.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == f"- name: {name}":
            indent = len(line) - len(line.lstrip()) + 2
            for follow in range(index + 1, len(lines)):
                text = lines[follow]
                if text.strip().startswith("- "):
                    break
                if text.strip().startswith("run:"):
                    value = text.split("run:", 1)[1].strip()
                    if value != "|":
                        return value + "\n"
                    body = []
                    for more in lines[follow + 1:]:
                        if more.strip() and len(more) - len(more.lstrip()) <= indent:
                            break
                        body.append(more[indent + 2:])
                    return "\n".join(body) + "\n"
    raise AssertionError(f"no step '{name}' with a run: script in docs/ci.md")


class Links(html.parser.HTMLParser):
    """Collects href and src values."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.links += [value for name, value in attrs if name in ("href", "src") and value]


@unittest.skipUnless(os.access(SHIM, os.X_OK), "build/ has no libzmq shim: run make")
class Workflow(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="gssconform-ci-")
        ws = cls.ws = cls.tmp.name
        text = doc_text()
        workflow = fenced(text, "yaml", "## A complete GitHub Actions workflow")
        cls.shards = [int(n) for n in re.search(r"shard: \[([\d, ]+)\]", workflow)
                      .group(1).split(",")]
        os.makedirs(os.path.join(ws, "gssconform"))
        wrapper = os.path.join(ws, "gssconform", "gssconform")
        with open(wrapper, "w", encoding="utf-8") as handle:
            handle.write(f"#!/bin/sh\nexec {sys.executable} {REPO}/gssconform \"$@\" "
                         f"--scenarios {TREE}\n")
        os.chmod(wrapper, 0o755)
        os.makedirs(os.path.join(ws, "ci"))
        # The doc's example profile as written, its program being the libzmq shim.
        with open(os.path.join(ws, "ci", "profile.toml"), "w", encoding="utf-8") as handle:
            handle.write(fenced(text, "toml", "`ci/profile.toml` is your candidate profile"))
        os.symlink(SHIM, os.path.join(ws, "mylib-shim"))
        with open(os.path.join(ws, "ci", "gssconform-expect.toml"), "w",
                  encoding="utf-8") as handle:
            handle.write('[[expectation]]\ncase = "zmtp-gssapi/ci/known-deviation"\n'
                         'xfail = "accepted deviation"\nmessage = "deliberately wrong"\n')
        cls.runs = {}
        shard_script = step_script(workflow, "Run our shard")
        for shard in cls.shards:
            cls.runs[shard] = cls.bash(shard_script.replace("${{ matrix.shard }}", str(shard)))
            # actions/upload-artifact then actions/download-artifact (pattern, path: shards)
            dest = os.path.join(ws, "shards", f"gssconform-shard-{shard}")
            shutil.copytree(os.path.join(ws, f"shard-{shard}"), dest)
        cls.merge = cls.bash(step_script(workflow, "Merge the shards (exit status 1 = "
                                                   "conformance regression)"))
        # Only the uploaded folder survives into the downloaded artifact.
        cls.artifact = os.path.join(ws, "downloaded")
        shutil.copytree(os.path.join(ws, "reports"), cls.artifact)
        for shard in cls.shards:
            shutil.rmtree(os.path.join(ws, f"shard-{shard}"))
        shutil.rmtree(os.path.join(ws, "shards"))
        shutil.rmtree(os.path.join(ws, "reports"))

    @classmethod
    def bash(cls, script: str) -> subprocess.CompletedProcess:
        """A step as GitHub runs it (bash --noprofile --norc -eo pipefail), in the workspace."""
        env = dict(os.environ, GITHUB_WORKSPACE=cls.ws)
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=cls.ws, env=env, capture_output=True, text=True,
                              timeout=OUTER_TIMEOUT, check=False)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_shards_ran(self) -> None:
        self.assertEqual(len(self.shards), 4)
        for shard, run in self.runs.items():
            self.assertEqual(run.returncode, 0, f"shard {shard}: {run.stderr}")

    def test_merge_judges_the_whole(self) -> None:
        self.assertEqual(self.merge.returncode, 0, self.merge.stderr)
        for shard in self.shards:
            self.assertIn(f"shards/gssconform-shard-{shard}/exit-status: 0", self.merge.stdout)
        self.assertIn("merged 4 folders: 4 results: 3 PASS, 1 XFAIL", self.merge.stderr)

    def test_artifact_has_no_dead_link(self) -> None:
        pages = [os.path.join(folder, name) for folder, _, names in os.walk(self.artifact)
                 for name in names if name.endswith(".html")]
        self.assertGreater(len(pages), 4, "index, requirements and case pages")
        checked = 0
        for page in pages:
            parser = Links()
            with open(page, encoding="utf-8") as handle:
                parser.feed(handle.read())
            for link in parser.links:
                parts = urllib.parse.urlsplit(link)
                if parts.scheme or link.startswith("#"):
                    continue
                target = os.path.normpath(os.path.join(os.path.dirname(page),
                                                       urllib.parse.unquote(parts.path)))
                self.assertTrue(target.startswith(self.artifact + os.sep),
                                f"{page}: {link} leaves the artifact")
                self.assertTrue(os.path.exists(target), f"{page}: dead link {link}")
                checked += 1
        self.assertGreater(checked, 20)
        self.assertTrue(os.path.isfile(os.path.join(self.artifact, "junit.xml")))

    def test_shard_status_after_an_input_error(self) -> None:
        """Exit 3 makes no report folder; the status file still gets written."""
        shutil.copy(os.path.join(self.ws, "ci", "profile.toml"),
                    os.path.join(self.ws, "ci", "profile.good"))
        try:
            with open(os.path.join(self.ws, "ci", "profile.toml"), "a",
                      encoding="utf-8") as handle:
                handle.write('\n[[expectation]]\ncase = "zmtp-gssapi/*"\nrole = "zmtp-servre"\n'
                             'xfail = "typo"\n')
            script = step_script(fenced(doc_text(), "yaml", "## A complete GitHub Actions"),
                                 "Run our shard").replace("${{ matrix.shard }}", "9")
            done = self.bash(script.replace("/4 ", "/9 "))
        finally:
            shutil.move(os.path.join(self.ws, "ci", "profile.good"),
                        os.path.join(self.ws, "ci", "profile.toml"))
        self.assertEqual(done.returncode, 1, done.stderr)   # the step fails...
        with open(os.path.join(self.ws, "shard-9", "exit-status"), encoding="ascii") as handle:
            self.assertEqual(handle.read(), "3\n")        # ...and says why


class DocExamples(unittest.TestCase):
    def test_example_files_are_valid_for_the_catalogue(self) -> None:
        """The doc's profile and expectation file pass the runner's checks on scenarios/."""
        text = doc_text()
        with tempfile.TemporaryDirectory() as tmp:
            profile_path = os.path.join(tmp, "profile.toml")
            with open(profile_path, "w", encoding="utf-8") as handle:
                handle.write(fenced(text, "toml", "`ci/profile.toml` is your candidate profile"))
            expect = os.path.join(tmp, "expect.toml")
            with open(expect, "w", encoding="utf-8") as handle:
                handle.write(fenced(text, "toml", "## Expectation files"))
            ids = [c.id for c in load_spec(os.path.join(REPO, "scenarios"), "zmtp-gssapi")]
            check_expectation_file(expect, [load_profile(profile_path)], ids)


if __name__ == "__main__":
    taptest.main()
