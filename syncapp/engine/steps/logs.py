"""SWLogShipper: ships what `syncapp.logshipping.ShippingHandler` kept.

The handler keeps the sync's WARNING and ERROR records (as Logger Options say) in a small
table; the shipper, a step near the end of each cycle, sends them to the backend's log sink in
batches of up to 500 and deletes each batch once the backend accepted it.
"""

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import keyset

SEND_MAX = 500


class LogShipper(Step):
    name = "LogShipper"
    class_name = "SWLogShipper"

    def run(self, ctx):
        from syncapp.models import PendingLogEntry

        sw = clients.saleswings()
        for entries in keyset(PendingLogEntry.objects.all(), SEND_MAX):
            with ctx.batch() as batch:
                batch.examined += len(entries)
                sw.send_logs(
                    [
                        {
                            "level": e.level,
                            "logger": e.logger,
                            "message": e.message,
                            "time": e.time.isoformat(),
                        }
                        for e in entries
                    ]
                )
                with ctx.fenced():
                    PendingLogEntry.objects.filter(pk__in=[e.pk for e in entries]).delete()
                batch.modified += len(entries)
