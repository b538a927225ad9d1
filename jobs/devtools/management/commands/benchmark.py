import json

from django.core.management.base import BaseCommand, CommandError

from jobs.devtools.benchmark import benchmark_run, phase_floor, phase_pipeline


class Command(BaseCommand):
    help = (
        "Benchmark the conversion (upload, account creation, distribution) on fresh "
        "databases of the configured engine, against the floor: bulk inserts of the same rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--stores", type=int, default=4)
        parser.add_argument("--channel-databases", type=int, default=2)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--phase", choices=["pipeline", "floor"], help="internal: one phase")

    def handle(self, *args, customers, stores, channel_databases, phase, **options):
        if customers < 1 or stores < 1 or channel_databases < 1:
            raise CommandError("--customers, --stores and --channel-databases must be at least 1")
        if phase:
            run = phase_pipeline if phase == "pipeline" else phase_floor
            self.stdout.write(json.dumps(run(customers=customers, stores=stores)))
            return
        log = (lambda message: None) if options["json"] else self.stderr.write
        try:
            report = benchmark_run(
                customers=customers, stores=stores, channel_databases=channel_databases, log=log
            )
        except Exception as error:
            raise CommandError(str(error).splitlines()[0] if str(error) else repr(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            f"{report['engine']}: {customers} customers, {stores} stores, "
            f"{channel_databases} channel databases"
        )
        self.stdout.write(
            f"{'stage':<16}{'seconds':>10}{'cust/s':>10}{'queries':>10}{'q/cust':>9}{'rss MB':>9}"
        )
        for stage in report["stages"]:
            self.stdout.write(
                f"{stage['stage']:<16}{stage['seconds']:>10.2f}{stage['customers_per_second']:>10.0f}"
                f"{stage['queries']:>10}{stage['queries_per_customer']:>9.4f}{stage['peak_rss_mb']:>9.0f}"
            )
        self.stdout.write(
            f"{'total':<16}{report['total_seconds']:>10.2f}{report['customers_per_second']:>10.0f}"
            f"{'':>10}{report['queries_per_customer']:>9.4f}{report['peak_rss_mb']:>9.0f}"
        )
        self.stdout.write(
            f"floor {report['floor_seconds']:.2f}s  ratio pipeline/floor {report['ratio']}"
        )
