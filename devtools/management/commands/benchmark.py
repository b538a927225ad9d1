import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.benchmark.floor import phase_floor
from devtools.benchmark.freshness import benchmark_freshness_run, phase_freshness
from devtools.benchmark.pipeline import phase_pipeline
from devtools.benchmark.raw_floor import phase_raw
from devtools.benchmark.run import benchmark_parent_run, benchmark_run


class Command(BaseCommand):
    help = (
        "Benchmark the conversion (upload, account creation, distribution) on fresh "
        "databases of the configured engine, against the floor: bulk inserts of the same rows. "
        "With --freshness: store-to-store latency through a real qcluster, customers created "
        "at async stores at --rate per second for --seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--stores", type=int, default=4)
        parser.add_argument(
            "--channel-databases",
            type=int,
            default=2,
            help="channel databases (each with at least one store); above 1, the run is "
            "repeated on 1 for the cost of each extra channel database",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.Q_CLUSTER["workers"],
            help="worker processes distributing to the channel databases side by side, as "
            "the cluster's (default Q_WORKERS); 1: one after the other",
        )
        parser.add_argument(
            "--no-orm-floor",
            action="store_true",
            help="skip the ORM floor (floor_seconds null); the raw floor is always measured",
        )
        parser.add_argument(
            "--freshness",
            action="store_true",
            help="measure seconds from a customer's creation to its store holding the account",
        )
        parser.add_argument(
            "--rate", type=float, default=5.0, help="--freshness: creations per second"
        )
        parser.add_argument(
            "--seconds", type=float, default=60.0, help="--freshness: how long to create"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--phase",
            choices=["pipeline", "floor", "raw", "freshness"],
            help="internal: one phase",
        )
        parser.add_argument(
            "--rows-dir", type=Path, help="internal: where the pipeline dumps its rows"
        )

    def handle(self, *args, customers, stores, channel_databases, phase, **options):
        if customers < 1 or stores < 1 or channel_databases < 1 or options["workers"] < 1:
            raise CommandError(
                "--customers, --stores, --channel-databases and --workers must be at least 1"
            )
        if options["freshness"] or phase == "freshness":
            return self._freshness(
                rate=options["rate"],
                seconds=options["seconds"],
                stores=stores,
                channel_databases=channel_databases,
                phase=phase,
                as_json=options["json"],
            )
        if phase == "pipeline":
            report = phase_pipeline(
                customers=customers,
                stores=stores,
                workers=options["workers"],
                dump=options["rows_dir"],
            )
            self.stdout.write(json.dumps(report))
            return
        if phase == "floor":
            self.stdout.write(json.dumps(phase_floor(customers=customers, stores=stores)))
            return
        if phase == "raw":
            if options["rows_dir"] is None:
                raise CommandError("--phase raw needs --rows-dir")
            self.stdout.write(json.dumps(phase_raw(directory=options["rows_dir"])))
            return
        report = benchmark_parent_run(
            benchmark_run,
            as_json=options["json"],
            stderr=self.stderr,
            customers=customers,
            stores=stores,
            channel_databases=channel_databases,
            workers=options["workers"],
            orm_floor=not options["no_orm_floor"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self._report_write(report, channel_databases=channel_databases)

    def _report_write(self, report: dict, *, channel_databases: int) -> None:
        """The report as a table, for a person (``--json``: one object instead)."""
        customers = report["customers"]
        self.stdout.write(
            f"{report['engine']}: {customers} customers, {report['stores']} stores, "
            f"{channel_databases} channel databases, distributed by "
            f"{report['distribution_workers']} worker processes"
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
        if report["floor_seconds"] is not None:
            self.stdout.write(
                f"ORM floor {report['floor_seconds']:.2f}s  ratio pipeline/floor {report['ratio']}"
            )
        writes = report["raw_floor_writes_per_customer"]
        self.stdout.write(
            f"raw floor {report['raw_floor_seconds']:.2f}s  ratio pipeline/raw floor "
            f"{report['raw_ratio']}  ({writes['inserts']} inserts, {writes['updates']} updates, "
            f"{writes['deletes']} deletes per customer, final changed columns)"
        )
        extra = report.get("per_extra_channel_database")
        if extra:
            self.stdout.write(
                f"each channel database beyond the first: pipeline "
                f"+{extra['pipeline_seconds']:.2f}s, raw floor "
                f"+{extra['raw_floor_seconds']:.2f}s, ratio {extra['ratio']} (the same run "
                f"on 1 channel database: {extra['baseline_total_seconds']:.2f}s, raw floor "
                f"{extra['baseline_raw_floor_seconds']:.2f}s)"
            )

    def _freshness(self, *, rate, seconds, stores, channel_databases, phase, as_json):
        if rate <= 0 or seconds <= 0:
            raise CommandError("--rate and --seconds must be greater than 0")
        if phase == "freshness":
            report = phase_freshness(
                rate=rate, seconds=seconds, stores=stores, channel_databases=channel_databases
            )
            self.stdout.write(json.dumps(report))
            return
        report = benchmark_parent_run(
            benchmark_freshness_run,
            as_json=as_json,
            stderr=self.stderr,
            rate=rate,
            seconds=seconds,
            stores=stores,
            channel_databases=channel_databases,
        )
        if as_json:
            self.stdout.write(json.dumps(report))
            return
        stages = report["stages"]
        self.stdout.write(
            f"{report['engine']} + {report['broker']} broker: {report['customers']} customers at "
            f"{report['rate']}/s over {report['stores']} async stores, "
            f"{report['channel_databases']} channel databases"
        )
        self.stdout.write(
            f"creation -> store holds the account: p50 {report['p50_seconds']} s, "
            f"p95 {report['p95_seconds']} s, max {report['max_seconds']} s "
            f"({report['not_arrived']} not arrived)"
        )
        self.stdout.write(
            f"creation -> every store holds it: p50 {report['all_stores']['p50']} s, "
            f"p95 {report['all_stores']['p95']} s"
        )
        for name, label in [
            ("to_upload", "created -> uploaded"),
            ("upload_to_store", "uploaded -> linked at the store"),
            ("chain_pickup", "chain enqueued -> its upload started"),
            ("chain_run", "chain's upload started -> chain done"),
            ("probe_round_trip", "empty task through the broker"),
        ]:
            self.stdout.write(
                f"  {label:<34} p50 {stages[name]['p50']} s, p95 {stages[name]['p95']} s"
            )
        self.stdout.write(f"job runs kept {report['job_runs']}, chains run {report['chains']}")
