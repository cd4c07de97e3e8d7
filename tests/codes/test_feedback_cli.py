"""``interplay feedback`` subcommand, run through the real CLI entry point."""

from __future__ import annotations

from interplay.cli import main


def test_bounds_prints_table(capsys):
    assert main(["feedback", "bounds", "--k", "64", "--slots", "64", "--n", "1e9"]) == 0
    out = capsys.readouterr().out
    assert "variable_length_lower" in out and "1.3751" in out


def test_encode_then_every_user_decodes_distinct_slots(capsys):
    ids = [17, 4242, 99, 5, 123456789, 31337]
    assert main(["feedback", "encode", "--slots", "6", "--ids", ",".join(map(str, ids))]) == 0
    message = capsys.readouterr().out.strip()
    slots = []
    for user in ids:
        assert main(["feedback", "decode", "--slots", "6", "--message", message, "--id", str(user)]) == 0
        slots.append(int(capsys.readouterr().out.strip()))
    assert sorted(slots) == list(range(6))


def test_message_without_k(capsys):
    ids = [17, 4242, 99, 5, 123456789, 31337, 8]
    args = ["--slots", "7", "--no-send-k"]
    assert main(["feedback", "encode", *args, "--ids", ",".join(map(str, ids))]) == 0
    message = capsys.readouterr().out.strip()
    slots = []
    for user in ids:
        assert main(["feedback", "decode", *args, "--k", "7", "--message", message, "--id", str(user)]) == 0
        slots.append(int(capsys.readouterr().out.strip()))
    assert sorted(slots) == list(range(7))
    assert main(["feedback", "decode", *args, "--message", message, "--id", "17"]) == 2
    assert "pass k=" in capsys.readouterr().err


def test_simulate_and_errors(capsys):
    assert main(["feedback", "simulate", "--k", "20", "--slots", "40", "--trials", "3"]) == 0
    assert "every active user decoded a valid slot" in capsys.readouterr().out
    assert main(["feedback", "decode", "--slots", "6", "--message", "ff", "--id", "3"]) == 2
    assert "too short" in capsys.readouterr().err
    assert main(["feedback", "bounds", "--k", "9", "--slots", "4"]) == 2
    assert main(["feedback", "simulate", "--k", "20", "--slots", "40", "--window", "0.1"]) == 2
    assert "window must be" in capsys.readouterr().err
    assert main(["feedback"]) == 2
