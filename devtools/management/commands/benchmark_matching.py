import json

from django.core.management.base import BaseCommand, CommandError

from devtools.benchmark.run import benchmark_parent_run
from devtools.matching_cost import matching_cost_run, phase_matching


class Command(BaseCommand):
    help = (
        "Duplicate detection's cost (R12): account creation of the same async customers "
        "with customer masters of each --existing size, on fresh databases of the "
        "configured engine."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=5_000)
        parser.add_argument("--stores", type=int, default=2)
        parser.add_argument(
            "--existing", type=int, nargs="+", default=[1_000, 100_000], metavar="N"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--phase", action="store_true", help="internal: one child run")

    def handle(self, *args, customers, stores, existing, phase, **options):
        if customers < 1 or stores < 1 or min(existing) < 0:
            raise CommandError("--customers and --stores must be at least 1, --existing 0")
        if phase:
            report = phase_matching(customers=customers, stores=stores, existing=existing[0])
            self.stdout.write(json.dumps(report))
            return
        report = benchmark_parent_run(
            matching_cost_run,
            as_json=options["json"],
            stderr=self.stderr,
            customers=customers,
            stores=stores,
            existing=existing,
        )
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            f"{'existing':>10}{'customers':>11}{'seconds':>10}{'cust/s':>10}"
            f"{'queries':>9}{'dups':>6}"
        )
        for run in report["runs"]:
            self.stdout.write(
                f"{run['existing']:>10}{run['customers']:>11}"
                f"{run['account_creation_seconds']:>10.2f}{run['customers_per_second']:>10.0f}"
                f"{run['queries']:>9}{run['possible_duplicates']:>6}"
            )
        self.stdout.write(f"ratio largest/smallest: {report['ratio']}")
