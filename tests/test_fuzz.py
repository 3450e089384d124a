"""Fuzzing: generated Python with main layers spliced in, arbitrary bytes, odd files.

Properties for any source: no exception escapes, every finding's range lies in the file,
`--fix` output parses, a second `--fix` changes nothing, and the fixed source has no
finding `--fix` would still fix. Hypothesis runs derandomized with bounded examples, so
CI sees the same inputs every time; the heaviest tests are marked `slow`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lint_mainlayer import api
from lint_mainlayer.cli import main
from lint_mainlayer.config import for_directory
from lint_mainlayer.source import DecodeError, decode, encode
from tests.generated_programs import (
    FUZZ,
    NOT_A_FIXED_POINT,
    SETTINGS,
    check_fix_properties,
    encodings_and_newlines,
    programs,
)
from tests.safety_support import BUGGY, fix_properties, no_traceback, python_parses, run_cli

# Built once: each call compiles a grammar, which costs more than the examples.
FROM_NODE = hypothesmith.from_node()
FROM_GRAMMAR = hypothesmith.from_grammar()


def test_fix_is_a_fixed_point() -> None:
    # The first pass fixes both findings (the renamed layer makes the MLL001 fix safe), and a
    # second --fix has nothing left to do.
    assert fix_properties(NOT_A_FIXED_POINT.encode(), unsafe=False) == "fixed"
    _, once = api.check_source(NOT_A_FIXED_POINT.encode(), "p.py", SETTINGS, api.Options(fix=True))
    assert once is not None and b"MainLayer(" not in once.split(b"\nbert = ")[1]


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(data=st.data(), unsafe=st.booleans())
def test_hypothesmith_programs_with_main_layers_spliced_in(data: st.DataObject, unsafe: bool) -> None:
    program = data.draw(programs(FROM_NODE))
    check_fix_properties(data.draw(encodings_and_newlines(program)), unsafe)


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(data=st.data(), unsafe=st.booleans())
def test_grammar_programs_with_main_layers_spliced_in(data: st.DataObject, unsafe: bool) -> None:
    program = data.draw(programs(FROM_GRAMMAR))
    check_fix_properties(data.draw(encodings_and_newlines(program)), unsafe)


# A small fixed host with many kinds of blocks, so that snippets land at every depth.
HOST = '''\
"""Docstring."""
import os


class Outer:
    x = 1

    def method(self, config):
        if config:
            return 2
        for i in range(3):
            while i:
                i -= 1
        return "s"


def function(config, *args, **kwargs):
    try:
        value = 1
    except ValueError:
        value = 2
    with open(os.devnull) as handle:
        value = 3
    return value
'''


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(data=st.data(), unsafe=st.booleans())
def test_snippets_in_every_context(data: st.DataObject, unsafe: bool) -> None:
    program = data.draw(programs(st.just(HOST)))
    check_fix_properties(data.draw(encodings_and_newlines(program)), unsafe)


# ---------------------------------------------------------------------------------------
# Arbitrary bytes and text


HEADER = b"from transformers import BertConfig, TFBertMainLayer\n"
TOKENS = (
    "(", ")", "[", "]", "{", "}", ":", ",", ".", ";", "=", ":=", "->", "*", "**", "@", "\\\n",
    "\n", "\r\n", "\r", "    ", "\t", "\x0c", " ", "#", "'", '"', '"""', "f'{", "}'", "b'", "0x", "1e", "1j",
    "x", "config", "self", "lambda", "def", "class", "async", "await", "match", "case", "if", "else",
    "for", "in", "return", "yield", "global", "nonlocal", "try", "except*", "with", "as", "del",
    "TFBertMainLayer", "TFBertMainLayer(config)", "hf.TFBertMainLayer", "BertConfig.from_pretrained('b')",
    "trainable=False", "name='bert'", "# noqa", "import transformers as hf\n", "é", "𝔘", "\ufeff", "\u2028",
)


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=400), st.booleans(), st.booleans())
def test_random_bytes_never_raise(data: bytes, with_header: bool, fix: bool) -> None:
    blob = (HEADER + data + b"\nTFBertMainLayer(config)\n") if with_header else data
    result, new_data = api.check_source(blob, "bytes.py", SETTINGS, api.Options(fix=fix))
    assert result.error is None or not result.error.startswith("internal error"), result.error
    if new_data is not None:
        assert python_parses(decode(new_data).text)


@settings(FUZZ, max_examples=300)
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.booleans())
def test_token_soup_never_raises(tokens: list[str], unsafe: bool) -> None:
    text = HEADER.decode() + "".join(tokens) + "\nTFBertMainLayer(BertConfig.from_pretrained('b'))\n"
    data = text.encode("utf-8", "surrogatepass")
    result, _ = api.check_source(data, "soup.py", SETTINGS, api.Options(fix=True, unsafe_fixes=unsafe))
    assert result.error is None or not result.error.startswith("internal error"), result.error
    if result.error is None:
        check_fix_properties(data, unsafe)


@settings(FUZZ, max_examples=200)
@given(
    st.sampled_from(["latin-1", "cp1252", "utf-8", "shift_jis", "koi8-r", "euc-jp", "utf-7", "unicode_escape",
                     "raw_unicode_escape", "utf-16", "idna", "rot13", "klingon", "ascii"]),
    st.text(max_size=40),
    st.binary(max_size=20),
)
def test_decode_is_faithful_or_refuses(coding: str, text: str, tail: bytes) -> None:
    """What `decode` accepts, `encode` turns back into exactly the same bytes."""
    data = f"# -*- coding: {coding} -*-\n".encode() + text.encode("utf-8", "surrogatepass") + tail
    try:
        decoded = decode(data)
    except DecodeError as exc:
        assert "\n" not in str(exc)
        return
    assert encode(decoded.text, decoded.encoding) == data


def test_truncated_utf8_at_every_byte() -> None:
    data = ("# café ☕ 𝔘\n" + BUGGY + "x = '€uro'\n").encode()
    for end in range(len(data) + 1):
        for fix in (False, True):
            result, _ = api.check_source(data[:end], "cut.py", SETTINGS, api.Options(fix=fix))
            assert result.error is None or not result.error.startswith("internal error"), (end, result.error)


@pytest.mark.parametrize("where", [0, 10, 60, -2], ids=["start", "import", "config", "end"])
def test_nul_byte_is_a_clear_error(where: int) -> None:
    data = BUGGY.encode()
    blob = data[:where] + b"\x00" + data[where:]
    result, new_data = api.check_source(blob, "nul.py", SETTINGS, api.Options(fix=True))
    assert result.error == "source contains a NUL byte"
    assert new_data is None


def test_huge_line_is_linted() -> None:
    data = BUGGY.encode() + b"x = '" + b"a" * 5_000_000 + b"'  # MainLayer\n"
    result, _ = api.check_source(data, "wide.py", SETTINGS, api.Options())
    assert result.error is None
    assert [d.code for d in result.diagnostics] == ["MLL001"]


def test_fifty_megabytes_without_main_layers_is_clean_and_quick(tmp_path: Path) -> None:
    body = b"def f(a, b):\n    return [a + i * b for i in range(10)]  # MainLayer\n"
    path = tmp_path / "big.py"
    path.write_bytes(body * (50_000_000 // len(body)))
    result = api.check_file(path, for_directory(tmp_path), api.Options(fix=True))
    assert result.error is None and result.diagnostics == ()


@pytest.mark.slow
def test_fifty_megabytes_with_a_main_layer_gives_a_result_or_an_error(tmp_path: Path) -> None:
    body = b"def f(a, b):\n    return [a + i * b for i in range(10)]\n"
    (tmp_path / "big.py").write_bytes(BUGGY.encode() + body * (50_000_000 // len(body)))
    try:
        # 4 GB: a clear error needs far less; without the cap the machine would swap.
        run = run_cli(["--no-cache", "-q", "big.py"], tmp_path, timeout=20, memory_mb=4096)
    except subprocess.TimeoutExpired:
        pytest.fail("no answer within 20 s")
    assert no_traceback(run), (run.returncode, run.stderr[-2000:])


# ---------------------------------------------------------------------------------------
# Nesting deeper than any parser's recursion: in a subprocess, since libcst's native
# parser can take the whole process down.

NESTED = {
    "brackets-150": "x = " + "[" * 150 + "]" * 150,
    "calls-190": "x = " + "f(" * 190 + ")" * 190,
    "unary-3000": "x = " + "-" * 3000 + "1",
    "elif-3000": "if a: pass\n" + "elif a: pass\n" * 3000,
    "blocks-99": "".join(" " * i + "if x:\n" for i in range(99)) + " " * 99 + "pass",
    "parens-100000": "x = " + "(" * 100_000 + "1" + ")" * 100_000,
    "unary-100000": "x = " + "-" * 100_000 + "1",
    "and-10000": "x = " + " and ".join(["a"] * 10_000),
}


@pytest.mark.parametrize("name", list(NESTED))
def test_deep_nesting_gives_a_result_or_a_clear_error(tmp_path: Path, name: str) -> None:
    source = NESTED[name]
    (tmp_path / "deep.py").write_text(BUGGY + source + "\n")
    run = run_cli(["--no-cache", "-q", "deep.py"], tmp_path, timeout=60)
    assert no_traceback(run), (run.returncode, run.stderr[-2000:])
    if run.returncode == 2:
        assert run.stderr.startswith("deep.py: error: "), run.stderr


# ---------------------------------------------------------------------------------------
# Files that are not quite Python


NOTEBOOK_EXPORT = """\
# In[1]:
!pip install transformers
%%time
%matplotlib inline
from transformers import BertConfig, TFBertMainLayer
config = BertConfig.from_pretrained("bert-base-uncased")
bert = TFBertMainLayer(config)
"""


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("#!/bin/sh\n" + BUGGY + "ls -la | grep MainLayer\n", id="shell-lines"),
        pytest.param(BUGGY + "print 'python 2'\n", id="python-2"),
        pytest.param(BUGGY + "def f(:\n", id="syntax-error"),
        pytest.param(BUGGY + "x = '''unterminated\n", id="unterminated-string"),
    ],
)
def test_unparseable_file_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_broken.py").write_text(source)
    (tmp_path / "b_buggy.py").write_text(BUGGY)
    assert main(["--no-cache", "--fix", "."]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("a_broken.py: error: ")
    assert captured.err.count("\n") == 1
    assert (tmp_path / "a_broken.py").read_text() == source
    assert "(1 fixed, 0 remaining)." in captured.out


def test_notebook_export_is_read_with_its_magics_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Once a parse error (issue 15): IPython lines are masked, the rest is linted and fixed.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.py").write_text(NOTEBOOK_EXPORT)
    assert main(["--no-cache", "--fix", "export.py"]) == 0
    fixed = (tmp_path / "export.py").read_text()
    assert fixed.startswith("# In[1]:\n!pip install transformers\n%%time\n%matplotlib inline\n")
    assert "TFBertModel.from_pretrained(" in fixed
    capsys.readouterr()


def test_unparseable_file_gives_one_error_line_and_no_python_warning(tmp_path: Path) -> None:
    (tmp_path / "warns.py").write_text(BUGGY + "x = 0x1for\n")
    run = run_cli(["--no-cache", "warns.py"], tmp_path)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("warns.py: error: syntax error at 4:"), run.stderr
