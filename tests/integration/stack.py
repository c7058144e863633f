"""One hub under test: settings and keys in a temporary HUB_HOME, the services in-process
(to create tenants, secrets and automations and to read executions), and the worker and
dispatcher as real subprocesses that read the same database and broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.automations.service import AutomationService
from hub.config import Settings, load_settings
from hub.crypto import KeyRing
from hub.events import EventService, IngestResult
from hub.executions import ExecutionRecord
from hub.runtime import Hub, open_hub
from hub.sealing import TransportKeys
from tests.integration.processes import Processes, wait_for

ACTOR = "test"


@dataclass
class Stack:
    home: Path
    settings: Settings
    env: dict[str, str]
    processes: Processes
    hub: Hub
    automations: AutomationService
    events: EventService
    tenant_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, tmp_path: Path, *, database_url: str, broker_url: str | None) -> Stack:
        home = tmp_path / "home"
        home.mkdir(mode=0o700)
        master = KeyRing([KeyRing.generate()]).serialize()
        transport = TransportKeys([TransportKeys.generate()]).serialize()
        env = {"HUB_HOME": str(home), "HUB_DATABASE_URL": database_url,
               "HUB_MASTER_KEY": master, "HUB_TRANSPORT_KEY": transport,
               "HUB_LOG_LEVEL": "INFO", "HUB_LOG_FORMAT": "json"}
        if broker_url:
            env["HUB_BROKER_URL"] = broker_url
        settings = load_settings(home=home, database_url=database_url, broker_url=broker_url,
                                 master_key=master, transport_key=transport)
        hub = open_hub(settings)
        automations = AutomationService(hub.sessions, clock=hub.clock)
        logs = tmp_path / "logs"
        logs.mkdir()
        return cls(home=home, settings=settings, env=env,
                   processes=Processes(logs, env), hub=hub, automations=automations,
                   events=EventService(hub.sessions, automations, clock=hub.clock))

    def close(self) -> None:
        try:
            self.processes.stop_all()
        finally:
            self.hub.close()

    # -- processes -------------------------------------------------------------------------

    def start(self, *, concurrency: int = 1, include: tuple[str, ...] = ()) -> None:
        self.processes.worker(concurrency=concurrency, include=include)
        self.processes.dispatcher(include=include)

    # -- definitions (through the services other parts own) --------------------------------

    def tenant(self, name: str, *, umbrella: str | None = None) -> str:
        created = self.hub.tenants.create(name, umbrella=umbrella, actor=ACTOR)
        self.tenant_ids[name] = created.id
        return str(created.id)

    def secret(self, tenant: str, key: str, value: str) -> None:
        self.hub.secrets.set(tenant, key, value, actor=ACTOR)

    def event_type(self, tenant: str, name: str, parameters: list[dict[str, Any]] | None = None,
                   ) -> None:
        self.automations.create_event_type(self.tenant_ids[tenant], name=name,
                                           parameters=parameters or [], actor=ACTOR)

    def action(self, tenant: str, name: str, sink: str, parameters: list[dict[str, Any]], *,
               timeout: float = 10.0, tries: int = 1, backoff: float = 0.2) -> None:
        self.automations.create_action(
            self.tenant_ids[tenant], name=name, sink=sink, parameters=parameters,
            timeout=timeout, retry={"attempts": tries, "backoff": backoff}, actor=ACTOR)

    def automation(self, tenant: str, name: str, event_type: str, action: str) -> None:
        self.automations.create_automation(self.tenant_ids[tenant], name=name,
                                           event_type=event_type, action=action, actor=ACTOR)

    # -- events and executions -------------------------------------------------------------

    def send(self, tenant: str, event_type: str, payload: Any) -> IngestResult:
        return self.events.ingest(self.tenant_ids[tenant], event_type, payload, actor=ACTOR)

    def execution(self, tenant: str, execution_id: str) -> ExecutionRecord:
        return self.events.get_execution(self.tenant_ids[tenant], execution_id)

    def wait(self, tenant: str, execution_id: str, *statuses: str,
             timeout: float = 60.0) -> ExecutionRecord:
        def finished() -> ExecutionRecord | None:
            record = self.execution(tenant, execution_id)
            return record if record.status in statuses else None

        try:
            return wait_for(finished, timeout=timeout, every=0.1,
                            what=f"execution to become {'/'.join(statuses)}")
        except AssertionError as exc:
            record = self.execution(tenant, execution_id)
            raise AssertionError(f"{exc}; it is {record.status} ({record.error});\n"
                                 + self.processes.outputs()[-6000:]) from None
