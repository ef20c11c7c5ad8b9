"""The trust store: trusted experiment-file contents, kept in the lab's home."""

from __future__ import annotations

import json

from lab.core.workspace.trust import TRUST_FILENAME, TrustStore, content_digest, file_digest


def test_trust_is_per_content_and_an_edited_file_is_not_trusted(tmp_path, lab_home):
    exp = tmp_path / "tone.toml"
    exp.write_bytes(b'name = "tone"\n')
    store = TrustStore()
    assert store.path == lab_home / TRUST_FILENAME and not store.file_is_trusted(exp)
    entry = store.trust_file(exp)
    assert entry.sha256 == content_digest(b'name = "tone"\n') and entry.path == str(exp.resolve())
    assert store.file_is_trusted(exp) and TrustStore().file_is_trusted(exp)  # remembered
    exp.write_bytes(b'name = "tone" \n')  # one byte more
    assert not store.file_is_trusted(exp)


def test_the_same_content_elsewhere_is_trusted_and_a_new_version_replaces_the_old(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("x = 1\n")
    b.write_text("x = 1\n")
    store = TrustStore(tmp_path / "trust.json")
    store.trust_file(a)
    assert store.file_is_trusted(b)  # a second clone of the same file
    old = file_digest(a)
    a.write_text("x = 2\n")
    store.trust_file(a)
    assert [e.sha256 for e in store.entries()] == [file_digest(a)]
    assert not store.is_trusted(old)


def test_the_file_is_small_json_written_atomically(tmp_path):
    exp = tmp_path / "tone.toml"
    exp.write_text("x = 1\n")
    store = TrustStore(tmp_path / "home" / "trust.json")
    store.trust_file(exp)
    data = json.loads(store.path.read_text())
    assert data["version"] == 1
    [row] = data["trusted"]
    assert set(row) == {"sha256", "path", "trusted_at"} and row["trusted_at"].endswith("Z")
    assert [p.name for p in store.path.parent.iterdir()] == ["trust.json"]  # no temporary left


def test_a_damaged_store_trusts_nothing_and_is_replaced(tmp_path):
    exp = tmp_path / "tone.toml"
    exp.write_text("x = 1\n")
    store = TrustStore(tmp_path / "trust.json")
    for damaged in ("{not json", '{"trusted": 3}', '[1, 2]', '{"trusted": [{"path": "x"}]}'):
        store.path.write_text(damaged)
        assert store.entries() == [] and not store.file_is_trusted(exp)
    store.trust_file(exp)
    assert store.file_is_trusted(exp)


def test_revoke_and_unreadable_files(tmp_path):
    exp = tmp_path / "tone.toml"
    exp.write_text("x = 1\n")
    store = TrustStore(tmp_path / "trust.json")
    store.trust_file(exp)
    assert store.revoke(exp) and not store.file_is_trusted(exp) and not store.revoke(exp)
    assert not store.file_is_trusted(tmp_path / "missing.toml")
