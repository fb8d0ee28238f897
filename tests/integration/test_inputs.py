"""Careless and hostile input: help and version, CLI integers, hostile YAML and files, output
paths, control characters from a database, credentials in messages, non-finite JSON."""
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import unittest

from hpt_harness import HPT, PYTHON, TempDirTest, file_digest, quadratic_config, write_config

TRAINER_VERBS = ["train", "match", "embed", "worker"]


def hpt(*args, timeout=60, env=None):
    """hpt under `timeout -k`, so that a hang or a runaway fails the test instead of blocking it."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(["timeout", "-k", "5", str(timeout), HPT, *args], capture_output=True, text=True,
                          env=full_env, errors="surrogateescape")


def verbs():
    """The verbs `hpt --help` lists."""
    out = hpt("--help").stdout
    section = out.split("Subcommands:", 1)[1]
    return re.findall(r"^\s+(\w+)\s", section, re.MULTILINE)


class HelpTest(unittest.TestCase):
    def test_help_prints_once_and_exits_0(self):
        """hpt --help: the help once on stdout, nothing on stderr, exit 0."""
        proc = hpt("--help")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("Usage:"), 1, proc.stdout)
        self.assertEqual(proc.stderr, "")

    def test_version_prints_only_the_version(self):
        """hpt --version: one line "hpt X.Y.Z", exit 0."""
        proc = hpt("--version")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"^hpt \d+\.\d+\.\d+\n$")
        self.assertEqual(proc.stderr, "")

    def test_every_verb_help_prints_once_and_exits_0(self):
        """hpt VERB --help for every verb: its help once, no error, exit 0 (the trainer's verbs
        through hpt-train when it is built, else one line saying it is missing)."""
        names = verbs()
        for verb in ["studies", "trials", "best", "report", "importance"] + TRAINER_VERBS:
            self.assertIn(verb, names)
        has_trainer = os.path.exists(os.path.join(os.path.dirname(os.path.abspath(HPT)), "hpt-train"))
        for verb in names:
            with self.subTest(verb=verb):
                proc = hpt(verb, "--help")
                if verb in TRAINER_VERBS and not has_trainer:
                    self.assertNotEqual(proc.returncode, 0)
                    self.assertIn("hpt-train", proc.stderr)
                    self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                    continue
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertEqual(proc.stdout.count("Usage:"), 1, proc.stdout)
                self.assertIn(f"Usage: hpt {verb}", proc.stdout)  # hpt-train run as "hpt".
                self.assertEqual(proc.stderr, "")
        if has_trainer:  # Run by hand, the trainer names itself.
            trainer = os.path.join(os.path.dirname(os.path.abspath(HPT)), "hpt-train")
            proc = subprocess.run([trainer, "--help"], capture_output=True, text=True, timeout=30)
            self.assertIn("Usage: hpt-train [OPTIONS] SUBCOMMAND", proc.stdout)


class CliIntegerTest(TempDirTest):
    def config(self):
        script = os.path.join(self.dir, "one.py")
        with open(script, "w") as f:
            f.write('print(\'{"value": 1}\')\n')
        return write_config(self.dir, f"""\
            study: {{storage: {self.dir}/s.db, sampler: {{type: random}}}}
            objective: {{command: [{PYTHON}, {script}]}}
            search_space:
              x: {{type: float, low: 0, high: 1}}
            """)

    def test_trials_is_decimal(self):
        """--trials 0010 means ten trials, not octal 8."""
        proc = hpt("--config", self.config(), "--trials", "0010", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        con = sqlite3.connect(f"{self.dir}/s.db")
        self.assertEqual(con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0], 10)
        con.close()

    def test_trials_plus_k_runs_k_more(self):
        """--trials +K: K more finished trials than the study has when the run starts (it was read
        as the total K: `+3` on a study of 4 said "4 of 3 trials finished: nothing to run")."""
        cfg = self.config()
        self.assertEqual(hpt("--config", cfg, "--trials", "4", timeout=120).returncode, 0)
        proc = hpt("--config", cfg, "--trials", "+3", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("4 of 7 trials finished, resuming", proc.stdout)
        con = sqlite3.connect(f"{self.dir}/s.db")
        try:
            self.assertEqual(con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0], 7)
        finally:
            con.close()
        # The largest K on a study that has trials: no wrap to a small or negative total; the
        # total stops at the largest count, which is no bound, so --timeout ends the run.
        proc = hpt("--config", cfg, "--trials", "+2147483647", "--timeout", "0.5", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("7 trials finished, resuming", proc.stdout)
        self.assertIn("--timeout 0.5s spent", proc.stdout)

    def test_bad_integers_are_refused_naming_the_flag(self):
        """Junk, negative, hex, fractions and overflow: one line naming the flag, exit 2, nothing created."""
        cfg = self.config()
        for flag, value in [("--trials", "abc"), ("--trials", "-5"), ("--trials", "0x10"), ("--trials", "1.5"),
                            ("--trials", "4294967297"), ("--trials", "99999999999999999999999"),
                            ("--trials", "0"), ("--trials", "+0"), ("--trials", "++3"), ("--trials", "+-3"),
                            ("--trials", "+"), ("--trials", "+ 3"),
                            ("--jobs", "0"), ("--jobs", "100000"), ("--jobs", "2x")]:
            with self.subTest(flag=flag, value=value):
                proc = hpt("--config", cfg, "--trials", "3", flag, value) if flag == "--jobs" else \
                    hpt("--config", cfg, flag, value)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn(flag, proc.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/s.db"))


    def test_a_misspelt_verb_is_named(self):
        """`hpt studeis s.db`: one line naming the word and the nearest verb, exit 2 (it said "The
        following arguments were not expected: s.db studeis")."""
        for word, hint in (("studeis", " (did you mean 'studies'?)"), ("s.db", "")):
            with self.subTest(word=word):
                proc = hpt(word, f"{self.dir}/s.db")
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertTrue(proc.stderr.startswith(f"hpt: error: unknown verb '{word}'{hint}; the verbs are studies, "),
                                proc.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/s.db"))

    def test_study_flags_before_a_verb_are_refused(self):
        """A study run's flags before a verb (`hpt --config c --trials 7 studies DB`) were ignored, or
        half-used: one line naming the flag and the verb, exit 2, no study run."""
        cfg = self.config()
        for verb, args in (("studies", ["--config", cfg, "--trials", "7", "studies", f"{self.dir}/s.db"]),
                           ("trials", ["--study", "q", "trials", f"{self.dir}/s.db"]),
                           ("report", ["--storage", f"{self.dir}/s.db", "report", f"{self.dir}/s.db",
                                       "-o", "r.html"])):
            with self.subTest(args=args):
                proc = hpt(*args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn(f"{args[0]}: is a flag of a study run", proc.stderr)
                self.assertIn(f"before the verb `{verb}`", proc.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/s.db"))


    def test_study_refused_for_its_trials_folder_leaves_no_database(self):
        """A new study whose study.trials_dir folder holds another study's trials is refused before
        its database is made (a run and `hpt ask` left an empty one behind)."""
        cfg = self.config()
        with open(cfg) as f:
            text = f.read().replace("study: {", f"study: {{name: mine, trials_dir: {self.dir}/td, ")
            text = text.replace("/s.db", "/a.db")
        with open(cfg, "w") as f:
            f.write(text)
        self.assertEqual(hpt("--config", cfg, "--trials", "1").returncode, 0)
        for args in (["--config", cfg, "--trials", "1", "--storage", f"{self.dir}/b.db"],
                     ["ask", "--config", cfg, "--storage", f"{self.dir}/b.db"]):
            with self.subTest(args=args):
                proc = hpt(*args)
                self.assertNotEqual(proc.returncode, 0)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn("holds the trials of another study named 'mine'", proc.stderr)
                self.assertFalse(os.path.exists(f"{self.dir}/b.db"))


class HostileConfigTest(TempDirTest):
    HEAD = "objective: {command: [true]}\nsearch_space: {a: [1]}\n"

    def check_refused(self, path, expected):
        proc = hpt("--config", path, "--trials", "1", "--storage", f"{self.dir}/s.db", timeout=20)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertIn(expected, proc.stderr)
        self.assertFalse(os.path.exists(f"{self.dir}/s.db"))

    def test_hostile_yaml_is_one_line_error(self):
        """A self-referencing alias, a billion laughs, a repeated key and an out-of-range integer each
        end in one line, quickly, in little memory."""
        laughs = "fixed:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
        cases = [
            (self.HEAD + "fixed: &a {b: *a}\n", "self.yaml:3: fixed.b: an alias refers to a node that contains it"),
            (self.HEAD + laughs, "expands to more than 1000000 values"),
            ("study:\n  seed: 1\n  seed: 2\n" + self.HEAD, "dup.yaml:3: study.seed: duplicate key 'seed' (first at line 2)"),
            (self.HEAD + "study: {max_failures: 4294967296}\n",
             "study.max_failures: must be in [1, 2147483647], but got 4294967296"),
            (self.HEAD + "fixed: " + "[" * 10000 + "\n", "range.yaml"),
        ]
        for (text, expected), name in zip(cases, ["self", "laughs", "dup", "int", "range"]):
            with self.subTest(name=name):
                self.check_refused(write_config(self.dir, text, f"{name}.yaml"), expected)

    def test_dev_zero_and_fifo_are_refused_at_once(self):
        """--config /dev/zero and a FIFO nobody writes to: refused as not regular files, no hang."""
        self.check_refused("/dev/zero", "/dev/zero: not a regular file (a character device)")
        fifo = os.path.join(self.dir, "fifo.yaml")
        os.mkfifo(fifo)
        self.check_refused(fifo, "fifo.yaml: not a regular file (a FIFO)")

    def test_huge_config_is_refused(self):
        """A config over 1 MiB is refused by its size."""
        path = os.path.join(self.dir, "huge.yaml")
        with open(path, "w") as f:
            f.write(self.HEAD + "fixed: {pad: '" + "x" * (2 << 20) + "'}\n")
        self.check_refused(path, "huge.yaml: larger than the limit of 1048576 bytes")


def make_study(directory, name, attrs_py, choice='"a"'):
    """A finished one-trial study whose worker reports the user attributes attrs_py (Python)."""
    script = os.path.join(directory, "obj.py")
    with open(script, "w") as f:
        f.write("import json, math\n"
                "print(json.dumps({'step': 0, 'value': float('nan')}))\n"
                f"print(json.dumps({{'value': 0.5, 'user_attrs': {attrs_py}}}))\n")
    cfg = write_config(directory, f"""\
        study: {{storage: {directory}/s.db, sampler: {{type: random}}, pruner: {{type: none}}}}
        objective: {{command: [{PYTHON}, {script}]}}
        search_space:
          c: [{choice}]
        """)
    proc = hpt("--config", cfg, "--trials", "1", "--study", name, timeout=60)
    return proc


class TerminalEscapesTest(TempDirTest):
    def test_control_characters_from_a_database_are_escaped(self):
        """ESC sequences in a study name, a parameter value and an attribute never reach the terminal raw
        (studies, trials, best, progress lines); csv keeps them verbatim, json escapes them."""
        proc = make_study(self.dir, "\x1b]0;pwn\x07evil", "{'note': '\\x1b[2Jwiped'}", choice='"\\e[31mred"')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("\x1b", proc.stdout + proc.stderr)
        self.assertIn("\\x1b]0;pwn\\x07evil", proc.stdout)
        db = f"{self.dir}/s.db"
        for args in (["studies", db], ["trials", db], ["best", db], ["trials", db, "--study", "nope\x1b[2J"]):
            with self.subTest(args=args):
                out = hpt(*args)
                self.assertNotIn("\x1b", out.stdout + out.stderr)
                self.assertNotIn("\x07", out.stdout + out.stderr)
                self.assertIn("\\x1b", out.stdout + out.stderr)
        csv = hpt("trials", db, "--format", "csv").stdout
        self.assertIn("\x1b[31mred", csv)
        trials = json.loads(hpt("trials", db, "--format", "json").stdout)
        self.assertEqual(trials[0]["params"]["c"], "\x1b[31mred")
        self.assertEqual(trials[0]["user_attrs"]["note"], "\x1b[2Jwiped")


class NonFiniteJsonTest(TempDirTest):
    def test_json_keeps_nan_and_infinity(self):
        """--format json prints NaN, Infinity and -Infinity (as Python's json), so they read back as floats."""
        proc = make_study(self.dir, "nf", "{'inf': float('inf'), 'ninf': float('-inf'), 'nan': float('nan')}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        db = f"{self.dir}/s.db"
        for args in (["trials", db, "--format", "json"], ["best", db, "--format", "json"]):
            with self.subTest(args=args):
                out = hpt(*args)
                self.assertEqual(out.returncode, 0, out.stderr)
                doc = json.loads(out.stdout)
                trial = doc[0] if isinstance(doc, list) else doc
                self.assertTrue(math.isnan(trial["intermediate_values"]["0"]))
                self.assertEqual(trial["user_attrs"]["inf"], math.inf)
                self.assertEqual(trial["user_attrs"]["ninf"], -math.inf)
                self.assertTrue(math.isnan(trial["user_attrs"]["nan"]))


class BestWithoutValuesTest(TempDirTest):
    def test_complete_trials_without_values_are_named(self):
        """COMPLETE trials whose value rows are gone (another tool's doing): `best` says so, not
        "no complete trial yet"."""
        proc = make_study(self.dir, "nv", "{}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        db = f"{self.dir}/s.db"
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM trial_values")
        out = hpt("best", db)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertEqual(out.stderr, "hpt: error: study 'nv' has 1 COMPLETE trial, but none with a value "
                                     "for each of its 1 objective (see hpt trials)\n")


class OutputPathTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.assertEqual(make_study(self.dir, "out", "{}").returncode, 0)
        self.db = f"{self.dir}/s.db"

    def test_report_refuses_to_overwrite_the_database(self):
        """report -o DB (or its -wal/-shm, a symlink or hard link to it, a path through ..) is refused;
        the database stays byte for byte."""
        before = file_digest(self.db)
        os.symlink(self.db, f"{self.dir}/link.html")
        os.link(self.db, f"{self.dir}/hard.html")
        os.mkdir(f"{self.dir}/sub")
        for out in (self.db, self.db + "-wal", self.db + "-shm", f"{self.dir}/link.html",
                    f"{self.dir}/hard.html", f"{self.dir}/sub/../s.db"):
            with self.subTest(out=out):
                proc = hpt("report", self.db, "-o", out)
                self.assertNotEqual(proc.returncode, 0)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn("is the study database", proc.stderr)
                self.assertEqual(file_digest(self.db), before)

    def test_output_that_cannot_be_written_fails(self):
        """Every read verb fails in one line, exit 1, when its stdout is a full disk or closed."""
        verbs = (["studies", self.db], ["trials", self.db], ["trials", self.db, "--format", "csv"],
                 ["trials", self.db, "--format", "json"], ["best", self.db],
                 # Verbs that run while the command line is read (they exited 0).
                 ["importance", self.db], ["report", self.db, "-o", "-"])
        for args in verbs:
            with self.subTest(args=args, stdout="/dev/full"):
                with open("/dev/full", "w") as full:
                    proc = subprocess.run([HPT, *args], stdout=full, stderr=subprocess.PIPE,
                                          text=True, timeout=60)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr, "hpt: error: cannot write the output: "
                                              "No space left on device\n")
            with self.subTest(args=args, stdout="closed"):
                proc = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', HPT, *args],
                                      stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("cannot write the output: Bad file descriptor", proc.stderr)

    def test_study_whose_output_cannot_be_written_says_why(self):
        """A study run with stdout on a full disk finishes its trials (they are in the database), then
        fails in one line naming the cause (it said only "write error": errno was long gone)."""
        cfg = quadratic_config(self.dir, db="full.db")
        with open("/dev/full", "w") as full:
            proc = subprocess.run([HPT, "--config", cfg, "--trials", "2"], stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertTrue(proc.stderr.endswith("hpt: error: cannot write the output: No space left on device\n"),
                        proc.stderr)

    def test_report_to_standard_output(self):
        """`hpt report DB -o -` writes the page to stdout (it wrote a file named '-')."""
        proc = subprocess.run([HPT, "report", self.db, "-o", "-"], cwd=self.dir, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(proc.stdout.startswith("<!DOCTYPE html>"), proc.stdout[:80])
        self.assertEqual(proc.stderr, "")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "-")))

    def test_report_never_follows_a_planted_temporary(self):
        """A symlink planted at the old fixed temporary name (report.html.tmp) is left alone; the report
        is written atomically beside it."""
        victim = f"{self.dir}/victim"
        with open(victim, "w") as f:
            f.write("precious")
        out = f"{self.dir}/report.html"
        os.symlink(victim, out + ".tmp")
        proc = hpt("report", self.db, "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")
        with open(out) as f:
            self.assertIn("<html", f.read().lower())
        self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".report.html")], [])


class CredentialsTest(TempDirTest):
    def test_no_password_in_any_error(self):
        """Storage URLs in errors never show a password: userinfo, ?password=, unsupported schemes,
        malformed %-escapes that libpq echoes back."""
        urls = ["postgresql+psycopg2://u:hunter22@localhost/db",
                "mysql://u:hunter22@localhost/db",
                "postgresql://u:hun%zzter22@localhost/db",
                "postgresql://u@127.0.0.1:1/db?password=hunter22&connect_timeout=1",
                "postgresql://u:hunter22@127.0.0.1:1/db?connect_timeout=1",
                "sqlite:///?password=hunter22"]
        cfg = write_config(self.dir, "objective: {command: [true]}\nsearch_space: {a: [1]}\n")
        for url in urls:
            for args in (["studies", url], ["trials", url], ["report", url, "-o", f"{self.dir}/r.html"],
                         ["--config", cfg, "--trials", "1", "--storage", url]):
                with self.subTest(args=args):
                    proc = hpt(*args, timeout=30)
                    self.assertNotEqual(proc.returncode, 0)
                    self.assertNotIn("hunter22", proc.stdout + proc.stderr)
                    self.assertNotIn("hun%zzter22", proc.stdout + proc.stderr)
                    self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)


if __name__ == "__main__":
    unittest.main()
