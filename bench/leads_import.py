"""Lead import benchmark: a generated CSV (default 1,000,000 rows: 10 % duplicates, 2 % invalid,
1 % on a suppressed domain) imported into a fresh campaign, against a bare COPY of the same file
into an unindexed table, measured in the same run.

    DATABASE_URL=postgres://… .venv/bin/python bench/leads_import.py [--rows N] [--keep-file PATH]
    .venv/bin/python bench/leads_import.py --sqlite --rows 1000000      # the same file on SQLite

Targets (PostgreSQL): ≥ 50,000 rows/s end to end, within 3x of the bare COPY, peak RSS < 300 MB.
Prints the figures; docs/PERFORMANCE.md records them. Not a test: no assertions on time.

It also prints a storage floor: the import's finished rows inserted again, unchecked, by one
``INSERT … SELECT`` into a table built like ``leads_lead``. Whatever an importer does, it has to
write those rows; the floor shows how much of the 3x that alone takes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Frances", "Dennis", "Radia"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Thompson", "Allen", "Ritchie"]
TITLES = ["CTO", "Head of Growth", "VP Sales", "Founder", "Marketing Manager", ""]
INDUSTRIES = ["SaaS", "Fintech", "Retail", "Manufacturing", ""]
SIZES = ["1-10", "11-50", "51-200", "201-500", "1000+", ""]
COUNTRIES = ["US", "DE", "GB", "FR", "NL", "ES", "se", ""]
SUPPRESSED_DOMAIN = "suppressed-bench.example"


def generate_csv(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write the file; return what the import should report."""
    rng = random.Random(seed)
    expected = {"rows": rows, "duplicates": 0, "invalid": 0, "suppressed": 0}
    unique_seen: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Email,First Name,Last Name,Job Title,Company,Company Size,Industry,Country\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.10 and unique_seen:
                n = unique_seen[rng.randrange(len(unique_seen))]
                email = f"Person.{n}@Company{n % 5000}.example"  # same address, other case
                expected["duplicates"] += 1
            elif roll < 0.12:
                email = f"broken-{i}-at-example"
                expected["invalid"] += 1
            elif roll < 0.13:
                email = f"someone{i}@{SUPPRESSED_DOMAIN}"
                expected["suppressed"] += 1
            else:
                email = f"person.{i}@company{i % 5000}.example"
                unique_seen.append(i)
                if len(unique_seen) > 50_000:  # keep the generator itself small
                    unique_seen[rng.randrange(len(unique_seen))] = unique_seen.pop()
            out.write(
                f"{email},{rng.choice(FIRST)},{rng.choice(LAST)},{rng.choice(TITLES)},"
                f"Company {i % 5000},{rng.choice(SIZES)},{rng.choice(INDUSTRIES)},{rng.choice(COUNTRIES)}\n"
            )
    return expected


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bare_copy_seconds(path: Path) -> float:
    """COPY the same file into an unindexed table of text columns: the physical floor."""
    from django.db import connection

    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(
            "CREATE TABLE bench_bare_copy (email text, first_name text, last_name text, title text, "
            "company text, company_size text, industry text, country text)"
        )
        started = time.perf_counter()
        with (
            path.open("rb") as source,
            cursor.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := source.read(1024 * 1024):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_copy")
    return elapsed


def storage_floor_seconds(campaign_id: int) -> tuple[float, int]:
    """Store the import's final lead rows again, with no checking at all, into a table built like
    ``leads_lead`` (``LIKE … INCLUDING ALL``: its columns, defaults, identity, unique and other
    indexes): what writing the rows alone costs, whatever the import does before it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_lead_floor")
        cursor.execute("CREATE TABLE bench_lead_floor (LIKE leads_lead INCLUDING ALL)")
        columns = [
            c for c in connection.introspection.get_table_description(cursor, "leads_lead") if c.name != "id"
        ]
        names = ", ".join(c.name for c in columns)
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO bench_lead_floor ({names}) SELECT {names} FROM leads_lead WHERE campaign_id = %s",
            [campaign_id],
        )
        rows = cursor.rowcount
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_lead_floor")
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="Run on a throwaway SQLite file instead.")
    parser.add_argument("--keep-file", type=Path, help="Write the CSV here and keep it.")
    parser.add_argument("--skip-reimport", action="store_true", help="Do not time a second import.")
    parser.add_argument(
        "--python-path",
        action="store_true",
        help="PostgreSQL: import through the batch path (the one small files and SQLite take).",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aicmo-bench-"))
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    elif not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (or pass --sqlite).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")

    import logging

    import django

    django.setup()
    logging.getLogger("leads.importers").setLevel(logging.INFO)  # the fast path's phase timings
    from django.db import connection

    # Migrated in a child process: migrating a fresh database in this one would leave the peak RSS
    # of rendering every migration's state (larger than the import's) in the figure below.
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, cwd=ROOT)

    from leads.importers import import_leads_from_csv
    from leads.models import Lead
    from leads.services import add_suppression
    from tests.factories import CampaignFactory, ClientFactory

    csv_path = args.keep_file or workdir / "leads.csv"
    started = time.perf_counter()
    expected = generate_csv(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(
        f"generated {args.rows:,} rows ({size_mb:.0f} MB) "
        f"in {time.perf_counter() - started:.1f} s: {expected}"
    )

    run_id = f"bench-{time.time_ns()}"
    campaign = CampaignFactory(client=ClientFactory(name=run_id, slug=run_id))
    add_suppression(domain=SUPPRESSED_DOMAIN, reason="manual_dnc", client=campaign.client)
    rss_before = peak_rss_mb()

    copy_seconds = None
    if connection.vendor == "postgresql":
        copy_seconds = bare_copy_seconds(csv_path)
        print(
            f"bare COPY into an unindexed table: {copy_seconds:.2f} s "
            f"({args.rows / copy_seconds:,.0f} rows/s)"
        )

    batch_size = 20_000 if args.python_path else None  # an explicit batch size asks for the Python path
    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        report = import_leads_from_csv(
            campaign=campaign, file=stream, filename=csv_path.name, batch_size=batch_size
        )
    import_seconds = time.perf_counter() - started
    rows_per_second = args.rows / import_seconds
    print(
        f"import on {connection.vendor}: {import_seconds:.2f} s, {rows_per_second:,.0f} rows/s; "
        f"read {report.rows_read:,}, inserted {report.inserted:,}, duplicates in file "
        f"{report.duplicates_in_file:,}, already in campaign {report.duplicates_in_campaign:,}, "
        f"suppressed {report.suppressed:,}, invalid {report.invalid:,}"
    )
    if copy_seconds:
        print(f"ratio import / bare COPY: {import_seconds / copy_seconds:.2f}x (target ≤ 3x)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before the import: {rss_before:.0f} MB; target < 300 MB)")

    stored = Lead.objects.filter(campaign=campaign).count()
    consistent = (
        report.rows_read == expected["rows"]
        and report.invalid == expected["invalid"]
        and report.suppressed == expected["suppressed"]
        and report.duplicates_in_file == expected["duplicates"]
        and stored
        == report.inserted
        == expected["rows"] - sum(expected[k] for k in ("duplicates", "invalid", "suppressed"))
    )
    print(f"report matches the generated file: {consistent} (leads stored: {stored:,})")
    if copy_seconds:
        floor, rows = storage_floor_seconds(campaign.pk)
        print(
            f"storage floor: {rows:,} finished lead rows copied into a table built like leads_lead, "
            f"no checks: {floor:.2f} s = {floor / copy_seconds:.2f}x the bare COPY "
            f"(what the 3x target leaves for reading, checking and deduplicating: "
            f"{3 * copy_seconds - floor:.2f} s)"
        )

    if args.skip_reimport:
        return
    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        again = import_leads_from_csv(
            campaign=campaign, file=stream, filename=csv_path.name, batch_size=batch_size
        )
    print(
        f"re-import: inserted {again.inserted} in {time.perf_counter() - started:.2f} s "
        f"(already in campaign {again.duplicates_in_campaign:,})"
    )


if __name__ == "__main__":
    main()
