"""arithnet.files, the one module every output goes through: whole files, all-or-nothing sets, modes, links, JSON."""

from __future__ import annotations

import json
import math
import os
import re
import stat

import pytest

from arithnet import files


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def usual(bits: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return bits & ~umask


def owned(name: str) -> bool:
    return name in ("a.txt", "b.txt")


def text_set(*texts: str):
    return [(name, files.text_writer(text)) for name, text in zip(("a.txt", "b.txt"), texts)]


# strict JSON -----------------------------------------------------------------------------------------------------


def test_non_finite_floats_become_null_at_any_depth():
    value = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (2, math.nan), "e": "nan", "f": 3}
    assert files.finite_or_none(value) == {"a": None, "b": [1.0, None, {"c": None}], "d": (2, None), "e": "nan", "f": 3}
    text = files.strict_json(value, indent=1)
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in strict JSON"))["d"] == [2, None]


# one file and sets of files ----------------------------------------------------------------------------------------


def test_write_all_is_all_or_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("old")

    def broken(path):
        path.write_text("half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        files.write_all([(tmp_path / "a.txt", files.text_writer("new")), (tmp_path / "b.txt", broken)])
    assert os.listdir(tmp_path) == ["a.txt"] and (tmp_path / "a.txt").read_text() == "old"
    written = files.write_all([(tmp_path / name, writer) for name, writer in text_set("1", "2")])
    assert written == [tmp_path / "a.txt", tmp_path / "b.txt"]
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt"] and (tmp_path / "a.txt").read_text() == "1"


def test_write_text_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    private = tmp_path / "private.md"
    private.write_text("old")
    private.chmod(0o600)
    files.write_text(private, "new")
    assert private.read_text() == "new" and mode(private) == 0o600
    fresh = files.write_text(tmp_path / "deeper" / "new.md", "x")  # a new file (and directory): the usual mode
    assert mode(fresh) == usual(0o666) and mode(tmp_path / "deeper") == usual(0o777)


def test_write_text_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "docs").mkdir()
    target = tmp_path / "docs" / "real.md"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(os.path.join("docs", "real.md"))  # relative, as links usually are
    assert files.write_text(link, "new") == link
    assert link.is_symlink() and os.readlink(link) == os.path.join("docs", "real.md")
    assert target.read_text() == "new" and mode(target) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["docs", "link.md"] and os.listdir(tmp_path / "docs") == ["real.md"]


def test_a_dangling_link_is_written_through_and_a_loop_is_refused(tmp_path):
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "made.md")
    files.write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "made.md").read_text() == "made"
    loop = tmp_path / "loop.md"
    loop.symlink_to(tmp_path / "loop.md")
    with pytest.raises(ValueError, match=r"output file '.*loop\.md' cannot be written: Too many levels"):
        files.write_text(loop, "x")
    assert loop.is_symlink()


def test_write_text_refuses_a_directory_and_a_place_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"output file '.*' is a directory"):
        files.write_text(tmp_path, "x")
    with pytest.raises(ValueError, match=r"report '.*' cannot be written: Not a directory"):
        files.write_text(tmp_path / "file" / "deeper" / "out.md", "x", "report")
    assert os.listdir(tmp_path) == ["file"]


def test_write_files_removes_the_directories_it_made_when_writing_fails(tmp_path):
    def full_disk(path):
        raise OSError(28, "No space left on device")

    directory = tmp_path / "a" / "b"
    with pytest.raises(ValueError, match="law files cannot be written: No space left on device"):
        files.write_files(directory, [(directory / "law.json", full_disk)], "law files")
    assert os.listdir(tmp_path) == []


def test_append_text_adds_to_the_end(tmp_path):
    log = tmp_path / "rows.jsonl"
    files.append_text(log, "1\n")
    files.append_text(log, "2\n")
    assert log.read_text() == "1\n2\n"


def test_a_set_replaced_keeps_the_modes_of_the_directory_and_its_files(tmp_path):
    out = tmp_path / "out"
    files.write_set(out, text_set("1", "2"), owned)
    assert mode(out) == usual(0o777) and mode(out / "a.txt") == usual(0o666)
    out.chmod(0o700)
    (out / "a.txt").chmod(0o600)
    files.write_set(out, text_set("3", "4"), owned)
    assert (out / "a.txt").read_text() == "3" and (out / "b.txt").read_text() == "4"
    assert mode(out) == 0o700 and mode(out / "a.txt") == 0o600 and mode(out / "b.txt") == usual(0o666)
    assert os.listdir(tmp_path) == ["out"]


def test_a_set_whose_directory_is_a_link_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "out").symlink_to("real")
    assert files.write_set(tmp_path / "out", text_set("1", "2"), owned) == [
        tmp_path / "out" / "a.txt",
        tmp_path / "out" / "b.txt",
    ]
    assert (tmp_path / "out").is_symlink() and (tmp_path / "real" / "a.txt").read_text() == "1"


@pytest.mark.parametrize("member", ["link", "directory"])
def test_a_set_refuses_a_member_that_is_not_a_file(tmp_path, member):
    out = tmp_path / "out"
    files.write_set(out, text_set("1", "2"), owned)
    (out / "a.txt").unlink()
    if member == "link":
        (tmp_path / "elsewhere.txt").write_text("mine")
        (out / "a.txt").symlink_to(tmp_path / "elsewhere.txt")
        message = "holds 'a.txt' as a symbolic link"
    else:
        (out / "a.txt").mkdir()
        message = "holds a directory 'a.txt', which a file would replace"
    with pytest.raises(ValueError, match=message):
        files.write_set(out, text_set("3", "4"), owned)
    assert (out / "b.txt").read_text() == "2"
    assert member == "directory" or (tmp_path / "elsewhere.txt").read_text() == "mine"


# checks ----------------------------------------------------------------------------------------------------------


def test_checks_create_nothing_and_name_the_problem(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    files.check_directory_creatable(tmp_path / "new" / "deeper", "report directory")
    assert files.prepare_files(tmp_path / "new" / "law", ["law.json"]) == tmp_path / "new" / "law"
    with pytest.raises(
        ValueError, match=rf"report directory '.*' cannot be written: '{re.escape(str(blocker))}' is not a directory"
    ):
        files.check_directory_creatable(blocker / "report", "report directory")
    with pytest.raises(ValueError, match=r"output directory '.*' exists and is not a directory"):
        files.prepare_files(blocker, ["law.json"])
    with pytest.raises(ValueError, match=r"output directory '.*' cannot be written: Not a directory"):
        files.prepare_files(blocker / "law", ["law.json"])
    (tmp_path / "out" / "law.json").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"holds a directory 'law\.json', which a file would replace"):
        files.prepare_files(tmp_path / "out", ["law.json", "law.png"])
    assert sorted(os.listdir(tmp_path)) == ["file", "out"]


def test_prepare_directory_creates_and_probes(tmp_path):
    assert files.prepare_directory(tmp_path / "a" / "b", "figure directory") == tmp_path / "a" / "b"
    assert os.listdir(tmp_path / "a" / "b") == []  # the probe is gone
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"figure directory '.*' cannot be written"):
        files.prepare_directory(tmp_path / "file" / "figures", "figure directory")
