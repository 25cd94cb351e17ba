"""`manage.py demo_access`: where `make run` serves and how to get in (logins, a working API token).

`make run` prints this last, after `seed_demo` and `demo` made the data: the URLs follow
`AICMO_PORT` / `AICMO_BIND` (as the Procfile's web process does), and the token is the one of the
demo client user whose campaign has data to read (Northwind's, from `manage.py demo`), created if
it has none. Only with DEBUG on, like the demo accounts themselves.
"""

from django.core.management.base import BaseCommand, CommandError

from campaigns.api_tokens import api_token_for
from campaigns.demo_accounts import (
    DEMO_CLIENT_USERS,
    DEMO_PASSWORDS,
    DEMO_REFUSED_MESSAGE,
    DEMO_STAFF,
    demo_accounts_allowed,
    local_base_url,
)
from campaigns.models import Campaign, User


def demo_access_lines(base_url: str | None = None) -> list[str]:
    base = (base_url or local_base_url()).rstrip("/")
    lines = [f"  Admin:     {base}/admin/"]
    # One login per role, none a superuser (who may do what: README, "Who can do what").
    staff = User.objects.filter(username__in=DEMO_STAFF, is_active=True)
    present = set(staff.values_list("username", flat=True))
    for name, (role, _first, _last) in DEMO_STAFF.items():
        if name in present:
            lines.append(f"             {name} / {DEMO_PASSWORDS[name]} ({role} role)")
    lines.append(f"  API docs:  {base}/api/docs/")
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_CLIENT_USERS, is_active=True)}
    for number, name in enumerate(n for n in DEMO_CLIENT_USERS if n in users):
        user = users[name]
        token = api_token_for(user)
        campaigns = Campaign.objects.filter(client_id=user.client_id).order_by("-pk")
        count = campaigns.count()
        about = f"{user.client.name if user.client_id else 'no client'}, {count} campaign{'s' * (count != 1)}"
        if count:
            about += f", e.g. #{campaigns[0].pk} “{campaigns[0].name}”"
        label = "API token:" if number == 0 else "Also:     "
        lines.append(f"  {label} {name} ({about})")
        lines.append(f"             curl -H 'Authorization: Token {token.key}' {base}/api/v1/campaigns/")
        if number == 0:
            lines.append(
                f"             a token for any user: curl -X POST -d username={name} "
                f"-d password={DEMO_PASSWORDS[name]} {base}/api/v1/auth/token/"
            )
    return lines


class Command(BaseCommand):
    help = "Print the demo's URLs (AICMO_PORT, AICMO_BIND), logins and a working client API token."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", help="Print URLs on this base instead (default: AICMO_BIND/PORT).")

    def handle(self, *args, base_url=None, **options):
        if not demo_accounts_allowed():
            raise CommandError(DEMO_REFUSED_MESSAGE)
        for line in demo_access_lines(base_url):
            self.stdout.write(line)
