"""Tests for issuer and verifier key files."""

from __future__ import annotations

import json
import logging
import stat

import pytest

from stappen import jose
from stappen.keys import KeyFileError, generate_keyset, load_keyset, main, public_keyset


def test_generate_writes_private_file(tmp_path):
    path = tmp_path / "keys" / "issuer.json"

    (key,) = generate_keyset(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (
        json.loads(path.read_text())["keys"][0]["d"] == key.as_dict(private=True)["d"]
    )


def test_generate_creates_parent_folder(tmp_path):
    path = tmp_path / "a" / "b" / "issuer.json"

    generate_keyset(path)

    assert path.parent.is_dir()


def test_generate_eddsa(tmp_path):
    (key,) = generate_keyset(tmp_path / "k.json", alg="EdDSA")

    assert jose.algorithm_for(key) == "EdDSA"


def test_generate_refuses_overwrite(tmp_path):
    path = tmp_path / "issuer.json"
    generate_keyset(path)

    with pytest.raises(
        KeyFileError, match=r"already exists; replacing it makes every token"
    ):
        generate_keyset(path)


def test_generate_overwrites_with_force(tmp_path):
    path = tmp_path / "issuer.json"
    (old,) = generate_keyset(path)

    (new,) = generate_keyset(path, force=True)

    assert load_keyset(path)[0].thumbprint() == new.thumbprint()
    assert new.thumbprint() != old.thumbprint()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_load_round_trip(tmp_path):
    path = tmp_path / "issuer.json"
    (key,) = generate_keyset(path)

    (loaded,) = load_keyset(path)

    assert loaded.is_private
    assert loaded.thumbprint() == key.thumbprint()


def test_load_missing_names_command(tmp_path):
    path = tmp_path / "missing.json"

    with pytest.raises(
        KeyFileError,
        match=rf"^key file {path} not found; create it with "
        rf"`python -m stappen.keys generate {path}`$",
    ):
        load_keyset(path)


def test_load_warns_on_loose_permissions(tmp_path, caplog):
    path = tmp_path / "issuer.json"
    generate_keyset(path)
    path.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="stappen.keys"):
        load_keyset(path)

    assert f"Key file {path} has mode 644, so other users may read" in caplog.text
    assert f"run `chmod 600 {path}`" in caplog.text


def test_load_silent_on_strict_permissions(tmp_path, caplog):
    path = tmp_path / "issuer.json"
    generate_keyset(path)
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="stappen.keys"):
        load_keyset(path)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_load_bad_json(tmp_path):
    path = tmp_path / "issuer.json"
    path.write_text("{not json")

    with pytest.raises(KeyFileError, match=rf"^key file {path} is not valid JSON: "):
        load_keyset(path)


def test_load_not_a_jwks(tmp_path):
    path = tmp_path / "issuer.json"
    path.write_text('{"kty": "EC"}')

    with pytest.raises(KeyFileError, match=rf"^key file {path} must be a JWKS"):
        load_keyset(path)


def test_load_public_key_only(tmp_path):
    path = tmp_path / "issuer.json"
    path.write_text(json.dumps({"keys": [jose.public_jwk(jose.generate_key())]}))

    with pytest.raises(KeyFileError, match=r"key 0 in .* has no private part 'd'"):
        load_keyset(path)


def test_load_invalid_key(tmp_path):
    path = tmp_path / "issuer.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))

    with pytest.raises(
        KeyFileError, match=r"key 0 in .* is invalid: JWK has kty 'oct'"
    ):
        load_keyset(path)


def test_public_keyset_has_no_private_part(tmp_path):
    keys = generate_keyset(tmp_path / "issuer.json")

    (jwk,) = public_keyset(keys)["keys"]

    assert "d" not in jwk
    assert jwk["kid"] == keys[0].kid


def test_main_generate_prints_public_keys(tmp_path, capsys):
    path = tmp_path / "issuer.json"

    status = main(["generate", str(path)])

    assert status == 0
    assert "d" not in json.loads(capsys.readouterr().out)["keys"][0]


def test_main_reports_missing_file(tmp_path, capsys):
    status = main(["public", str(tmp_path / "missing.json")])

    assert status == 1
    assert capsys.readouterr().err.startswith("error: key file ")
