"""A sender that behaves like SparkPost (sparkpost.md §2.4): a batch is done only on HTTP 200;
anything else, a timeout or a refused connection is retried with backoff, under the same batch
id, up to 12 attempts. The backoff is compressed from SparkPost's hours into seconds."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

# SparkPost's own figures: 10 s per attempt, 12 attempts in all.
SPARKPOST_TIMEOUT_SECONDS = 10.0
SPARKPOST_ATTEMPTS = 12
FIRST_BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 4.0


@dataclass(frozen=True)
class Delivery:
    body: bytes
    batch_id: str


@dataclass
class SendReport:
    deliveries: int = 0
    acknowledged: int = 0
    gave_up: list[str] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)

    def retried(self) -> str:
        """The answers other than 200, e.g. ``503x12 ConnectErrorx30``."""
        return " ".join(f"{k}x{v}" for k, v in sorted(self.answers.items()) if k != "200")


class SparkPostSender:
    def __init__(
        self,
        base_urls: list[str],
        auth: tuple[str, str],
        concurrency: int = 4,
        pace_seconds: float = 0.0,
    ) -> None:
        # Several tasks behind one endpoint: each attempt goes to the next, as an ALB spreads them.
        self._base_urls = base_urls
        self._next = 0
        self._auth = auth
        self._concurrency = concurrency
        # Pause between a worker's batches, so faults land while the load is still going.
        self._pace = pace_seconds
        self._random = random.Random(4)

    async def send(self, deliveries: list[Delivery]) -> SendReport:
        report = SendReport(deliveries=len(deliveries))
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        for delivery in deliveries:
            queue.put_nowait(delivery)
        limits = httpx.Limits(max_connections=self._concurrency)
        async with httpx.AsyncClient(timeout=SPARKPOST_TIMEOUT_SECONDS, limits=limits) as client:
            await asyncio.gather(
                *(self._worker(client, queue, report) for _ in range(self._concurrency))
            )
        return report

    async def _worker(
        self, client: httpx.AsyncClient, queue: asyncio.Queue[Delivery], report: SendReport
    ) -> None:
        while not queue.empty():
            delivery = queue.get_nowait()
            if await self._deliver(client, delivery, report):
                report.acknowledged += 1
            else:
                report.gave_up.append(delivery.batch_id)
            if self._pace:
                await asyncio.sleep(self._pace)

    async def _deliver(
        self, client: httpx.AsyncClient, delivery: Delivery, report: SendReport
    ) -> bool:
        backoff = FIRST_BACKOFF_SECONDS
        for _attempt in range(SPARKPOST_ATTEMPTS):
            target = self._base_urls[self._next % len(self._base_urls)]
            self._next += 1
            try:
                response = await client.post(
                    f"{target}/webhooks/sparkpost",
                    content=delivery.body,
                    auth=self._auth,
                    headers={
                        "Content-Type": "application/json",
                        "X-MessageSystems-Batch-ID": delivery.batch_id,
                    },
                )
                answer = str(response.status_code)
            except httpx.TransportError as exc:
                answer = type(exc).__name__
            report.answers[answer] += 1
            if answer == "200":
                return True
            await asyncio.sleep(backoff * (0.5 + self._random.random()))
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        return False
