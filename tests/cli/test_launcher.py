"""`prompt-lab`, the desktop launcher: `lab gui` under its own name, with --version and --help,
and --smoke-test on both."""

from __future__ import annotations

import pytest

from lab import __version__
from lab.cli import gui_main, main


def test_version_and_help_under_its_own_name(capsys):
    with pytest.raises(SystemExit) as exit_:
        gui_main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"Prompt Lab {__version__}"
    with pytest.raises(SystemExit):
        gui_main(["--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: prompt-lab ")
    assert "--smoke-test" in text and "--db PATH" in text


def test_a_mistyped_option_is_one_line_naming_prompt_lab(capsys):
    with pytest.raises(SystemExit) as exit_:
        gui_main(["--bogus"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("prompt-lab: unrecognized arguments: --bogus "
                                       "(see 'prompt-lab --help')\n")


@pytest.mark.parametrize("launch", [lambda a: gui_main(a), lambda a: main(["gui", *a])])
def test_the_smoke_test_refuses_a_workspace(launch, capsys, tmp_path):
    assert launch(["--smoke-test", "--db", str(tmp_path / "w.db")]) == 2
    assert "--smoke-test always uses a throwaway workspace; leave out --db" in capsys.readouterr().err
    assert not (tmp_path / "w.db").exists()


def test_a_bad_timeout_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["gui", "--smoke-test", "--timeout", "0"])
    assert exit_.value.code == 2
    assert "must be more than 0" in capsys.readouterr().err


def test_lab_gui_has_the_same_options_without_building_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["gui", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: lab gui ")
    assert "--smoke-test" in text and "--db PATH" in text and "--timeout" in text
    with pytest.raises(SystemExit) as exit_:
        main(["gui", "--bogus"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("lab: unrecognized arguments: --bogus "
                                       "(see 'lab gui --help')\n")


def test_opening_the_window_does_not_load_the_export_formats():
    # `lab gui` used to build every command's parser first; the export help imports each format.
    import subprocess
    import sys

    code = ("import contextlib, io, sys\nfrom lab.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['gui', '--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('lab.core.export')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
