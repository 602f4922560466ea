"""The layout's three automations, made by ``up`` (idempotent: replaced by name on each start).

1. **r42: crash runs whose process died.** Flow runs send a heartbeat event every
   ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (the layout sets it for its workers, and flow
   runs inherit it). A run of the ``r42-process`` pool that sends neither a heartbeat nor any
   other event for three heartbeats is set to Crashed: its process is gone (a killed worker,
   a lost machine), and without this it would stay "Running" for ever.
2. **r42: reschedule a crashed run once.** A run of the pool that crashes on its first try is
   scheduled again at once (state "AwaitingRetry"); a worker picks it up. Every flow of
   ``prefect.yaml`` can be re-run safely (messages are queued under a unique key and claimed
   once, submissions lock their row), so the second try finishes the work without doing any of
   it twice. A run that crashes again stays Crashed for a person to look at.
3. **r42: finish a cancel nobody acknowledges.** A run cancelled in the UI whose worker is
   gone stays "Cancelling" (nobody is left to stop it): after 60 s with no event from it, it
   is set to Cancelled.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

CRASH_SILENT = "r42: crash runs whose process died"
RESCHEDULE_CRASHED = "r42: reschedule a crashed run once"
FINISH_CANCEL = "r42: finish a cancel nobody acknowledges"
CANCEL_WAIT_SECONDS = 60


def _nothing_after(event: str, seconds: int, pool: dict[str, str]) -> EventTrigger:
    """Fires for a flow run of ``pool`` that emitted ``event`` and then nothing for
    ``seconds``."""
    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=pool,
        after={event},
        expect={"prefect.flow-run.*"},
        for_each={"prefect.resource.id"},
        posture=Posture.Proactive,
        threshold=1,
        within=timedelta(seconds=seconds),
    )


def automations(heartbeat_seconds: int, pool: str) -> list[AutomationCore]:
    silent = 3 * heartbeat_seconds
    our_pool = {"prefect.resource.role": "work-pool", "prefect.resource.name": pool}
    return [
        AutomationCore(
            name=CRASH_SILENT,
            description=f"A flow run of {pool} silent for {silent} s (three missed "
            "heartbeats) is set to Crashed: the process running it has died.",
            trigger=_nothing_after("prefect.flow-run.heartbeat", silent, our_pool),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message=f"No heartbeat for {silent} s: the process running this flow run "
                    "died (a killed worker or a lost machine)",
                )
            ],
        ),
        AutomationCore(
            name=FINISH_CANCEL,
            description=f"A flow run of {pool} still Cancelling {CANCEL_WAIT_SECONDS} s "
            "after a person cancelled it (its worker is gone, nobody ends it) is Cancelled.",
            trigger=_nothing_after("prefect.flow-run.Cancelling", CANCEL_WAIT_SECONDS, our_pool),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CANCELLED,
                    message=f"Cancelled: no worker acknowledged the cancel within "
                    f"{CANCEL_WAIT_SECONDS} s (its process is gone)",
                )
            ],
        ),
        AutomationCore(
            name=RESCHEDULE_CRASHED,
            description=f"A flow run of {pool} that crashed on its first try is scheduled "
            "again; the flows are idempotent. A second crash is left for a person.",
            trigger=EventTrigger(
                match={"prefect.resource.id": "prefect.flow-run.*", "prefect.run-count": "1"},
                match_related=our_pool,
                expect={"prefect.flow-run.Crashed"},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.SCHEDULED,
                    name="AwaitingRetry",
                    message="Crashed on its first try: scheduled again once (automation "
                    f"{RESCHEDULE_CRASHED!r})",
                    force=True,
                )
            ],
        ),
    ]


def ensure_automations(heartbeat_seconds: int, pool: str) -> list[str]:
    """Create the automations, replacing any of the same name (a changed heartbeat, say)."""
    done = []
    with get_client(sync_client=True) as client:
        for automation in automations(heartbeat_seconds, pool):
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
            done.append(f"automation {automation.name!r}")
    return done
