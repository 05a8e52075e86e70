import json

import pytest

from digits import DigitsError
from digits.files import atomic_output, write_json


def test_atomic_output_replaces_only_on_success(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("good")
    with pytest.raises(RuntimeError), atomic_output(path) as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == tmp_path
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "good"
    assert list(tmp_path.iterdir()) == [path], "the temporary file must be gone"


def test_atomic_output_survives_ctrl_c(tmp_path):
    path = tmp_path / "record.json"
    with pytest.raises(KeyboardInterrupt), atomic_output(path) as tmp:
        tmp.write_text("{")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_write_json_creates_folders_and_a_readable_file(tmp_path):
    path = tmp_path / "a" / "b" / "report.json"
    write_json(path, {"accuracy": 0.5})
    assert json.loads(path.read_text()) == {"accuracy": 0.5}
    assert path.stat().st_mode & 0o044 == 0o044, "readable by group and others, like any file"


def test_writing_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("")
    with pytest.raises(DigitsError, match="cannot write"):
        write_json(tmp_path / "blocker" / "report.json", {})
