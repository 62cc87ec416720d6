"""Explicit hooks: a lower app announces a domain event, apps built on it react.

The activities app must not import the processes app, yet completing a task may move
a process on, and a trade-fair capture may start one. So each event is a ``Hook``
object below, named after the event; the lower app calls it where the event happens
(inside its transaction): ``hooks.task_done.emit(task=…, actor=…)``. Each app that
reacts lists its listeners in one module, ``<app>/listeners.py``, whose
``register()`` its ``AppConfig.ready()`` calls. Unlike Django signals, every emit is
a visible call in a service, and who listens is in the table below — from a caller,
one look here and one in the listener's module.

Event (keyword arguments)  emitted in (kontor.)               → listeners (kontor.)
-------------------------  ---------------------------------  ----------------------------------
task_done (task, actor)    activities.services.tasks          → processes.listeners.on_task_done
task_reopened (task,       activities.services.tasks          → processes.listeners
  actor)                                                          .on_task_reopened
trade_fair_captured        activities.services.capture        → processes.listeners
  (result, actor)                                                 .on_trade_fair_captured
appointment_created        activities.services.appointments   → processes.listeners
  (appointment, actor,                                            .on_appointment_created
  context)
mail_queued (message,      mail.services.outgoing             → processes.listeners
  actor, context)                                                 .on_mail_queued
lead_created (record,      the sales app, once it exists      → processes.listeners
  source, actor)                                                  .on_lead_created
case_opened (record,       the service app, once it exists    → processes.listeners
  case_kind, actor)                                               .on_case_opened
opportunity_lost (record,  the sales app, once it exists      → processes.listeners
  actor)                                                          .on_opportunity_lost
process_started (instance) processes.services.instances       → none yet (webhooks to come)
process_step_entered       processes.services.engine          → none yet
  (instance, step_run)
process_ended (instance)   processes.services.engine and      → none yet
                           .instances (``instance.status``
                           says completed or cancelled)

``context`` is the dict the caller of ``mail_send`` / ``appointment_create`` passed
(e.g. ``{"process_item": id}`` from an instance's item). ``record`` is a person or an
organization.

An app that emits an event *declares* it in its ``AppConfig.ready()``
(``hooks.declare("lead_created")``), so that apps built on it can tell what can
actually happen here (``hooks.is_declared``): the process editor offers only the
triggers whose event some installed app emits.

Add an event by adding a ``Hook`` below and a row to the table; add a listener in the
reacting app's ``listeners.py`` and a name in the table's last column.
"""

from collections.abc import Callable


class Hook:
    """One domain event: its listeners, in registration order, and whether an
    installed app emits it (``declared``)."""

    def __init__(self, name: str):
        self.name = name
        self.listeners: list[Callable] = []
        self.declared = False

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"

    def listen(self, listener: Callable) -> None:
        if listener not in self.listeners:
            self.listeners.append(listener)

    def emit(self, **kwargs) -> None:
        """Call every listener in registration order, in the caller's transaction:
        a listener that raises rolls the whole use case back."""
        for listener in list(self.listeners):
            listener(**kwargs)


# Emitted by kontor.activities.
task_done = Hook("task_done")
task_reopened = Hook("task_reopened")
trade_fair_captured = Hook("trade_fair_captured")
appointment_created = Hook("appointment_created")
# Emitted by kontor.mail.
mail_queued = Hook("mail_queued")
# Emitted by the sales and service apps once they exist.
lead_created = Hook("lead_created")
case_opened = Hook("case_opened")
opportunity_lost = Hook("opportunity_lost")
# Emitted by kontor.processes.
process_started = Hook("process_started")
process_step_entered = Hook("process_step_entered")
process_ended = Hook("process_ended")

HOOKS: dict[str, Hook] = {
    hook.name: hook
    for hook in (
        task_done,
        task_reopened,
        trade_fair_captured,
        appointment_created,
        mail_queued,
        lead_created,
        case_opened,
        opportunity_lost,
        process_started,
        process_step_entered,
        process_ended,
    )
}


def declare(event: str) -> None:
    """Announce that an installed app emits ``event`` (call it in ``ready()``); an
    unknown name is a KeyError at start-up, not a silent miss."""
    HOOKS[event].declared = True


def is_declared(event: str) -> bool:
    hook = HOOKS.get(event)
    return hook is not None and hook.declared
