"""The hooks between apps stay followable: the table in kontor.core.hooks names every
event and every listener the installed apps registered."""

import pytest

from kontor.core import hooks


def test_every_event_is_in_the_table():
    for name in hooks.HOOKS:
        assert f"\n{name} " in hooks.__doc__, name


def test_every_listener_is_in_the_table():
    for hook in hooks.HOOKS.values():
        for listener in hook.listeners:
            module = listener.__module__.removeprefix("kontor.")
            assert module in hooks.__doc__, (hook.name, module)
            assert f".{listener.__name__}" in hooks.__doc__, (hook.name, listener.__name__)


def test_a_task_done_reaches_the_process_engine():
    from kontor.processes import listeners

    assert hooks.task_done.listeners == [listeners.on_task_done]


def test_an_unknown_event_cannot_be_declared():
    with pytest.raises(KeyError):
        hooks.declare("task_finished")


def test_listeners_run_in_registration_order(monkeypatch):
    seen = []
    monkeypatch.setattr(hooks.lead_created, "listeners", [])
    hooks.lead_created.listen(lambda **kwargs: seen.append(("first", kwargs)))
    hooks.lead_created.listen(lambda **kwargs: seen.append(("second", kwargs)))

    hooks.lead_created.emit(record=None, source="web", actor=None)

    assert seen == [
        ("first", {"record": None, "source": "web", "actor": None}),
        ("second", {"record": None, "source": "web", "actor": None}),
    ]
