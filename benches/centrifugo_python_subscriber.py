"""Reference receiver for the Centrifugo latency benchmark: the official Python SDK (centrifuge-python).

Usage: centrifugo_python_subscriber.py <ws-url> <token> <channel> <count>
Prints READY once subscribed, then one JSON line per publication: {"n": ..., "latency_us": ...}, where the
latency is this process's wall clock at on_publication minus the publisher's wall clock in data["t"] (ns).
"""
import asyncio
import json
import sys
import time

from centrifuge import Client, PublicationContext, SubscriptionEventHandler


async def main() -> None:
    url, token, channel, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    done = asyncio.Event()
    received = 0

    class Handler(SubscriptionEventHandler):
        async def on_publication(self, ctx: PublicationContext) -> None:
            nonlocal received
            now = time.time_ns()
            data = ctx.pub.data
            print(json.dumps({"n": data["n"], "latency_us": (now - data["t"]) / 1000.0}), flush=True)
            received += 1
            if received >= count:
                done.set()

    client = Client(url, token=token)
    subscription = client.new_subscription(channel, events=Handler())
    await client.connect()
    await subscription.subscribe()
    print("READY", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    finally:
        await client.disconnect()


asyncio.run(main())
