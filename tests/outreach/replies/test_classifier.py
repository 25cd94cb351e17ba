"""The offline reply classifier against the shipped corpus (per-category precision and recall),
plus its parts: quoted-text stripping, HTML to text, return dates, referrals and delivery reports."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter

import pytest

from outreach.autoreply import is_auto_reply
from outreach.replies.categories import ReplyCategory
from outreach.replies.classifier import classify
from outreach.replies.rules.bounces import parse_delivery_report
from outreach.replies.rules.dates import parse_return_date
from outreach.replies.rules.html_text import html_to_text
from outreach.replies.rules.quoted import strip_quoted
from outreach.replies.rules.referral import extract_referred_email

from .eml_corpus import CORPUS, corpus_files, expected_category, load, name

THRESHOLD = 0.9
WRITTEN = dt.date(2026, 3, 2)  # a Monday, the day the corpus's outreach went out


def parse(raw: str):
    return email.message_from_string(raw.lstrip(), policy=email.policy.default)


# --- the corpus --------------------------------------------------------------------------------


def test_the_corpus_covers_every_category_with_at_least_five_replies():
    files = corpus_files()
    per_category = Counter(expected_category(path) for path in files)
    assert len(files) >= 60
    assert set(per_category) == set(ReplyCategory.values), "one folder per category, named by value"
    assert min(per_category.values()) >= 5, per_category
    for path in files:
        message = load(path)
        assert message["From"] and message["Date"], name(path)


def score_table(results: list[tuple[str, str, str]]) -> tuple[dict[str, tuple[float, float, int]], str]:
    """Per category: (precision, recall, support) and the printed table."""
    scores = {}
    lines = [f"{'category':<22}{'precision':>10}{'recall':>8}{'n':>4}"]
    for category in ReplyCategory.values:
        true_positive = sum(1 for _, want, got in results if want == category and got == category)
        predicted = sum(1 for _, _, got in results if got == category)
        support = sum(1 for _, want, _ in results if want == category)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        scores[category] = (precision, recall, support)
        lines.append(f"{category:<22}{precision:>10.2f}{recall:>8.2f}{support:>4}")
    misses = [f"  {path}: expected {want}, got {got}" for path, want, got in results if want != got]
    lines += ["misclassified:", *misses] if misses else ["misclassified: none"]
    return scores, "\n".join(lines)


def test_offline_precision_and_recall_per_category_reach_the_threshold():
    results = []
    for path in corpus_files():
        got = classify(load(path))
        results.append((name(path), expected_category(path), str(got.category)))
    scores, table = score_table(results)
    print(f"\nReply classifier (offline) over {len(results)} corpus replies in {CORPUS}:\n{table}")
    below = {c: s for c, s in scores.items() if s[0] < THRESHOLD or s[1] < THRESHOLD}
    assert not below, f"precision/recall below {THRESHOLD}:\n{table}"


# What each reply must yield beyond its category: the actions downstream depend on these.
DETAILS = {
    "out_of_office/01-exchange-en-auto-submitted.eml": {
        "return_date": dt.date(2026, 3, 16),
        "automatic": True,
    },
    "out_of_office/02-gmail-vacation-en.eml": {"return_date": dt.date(2026, 3, 20)},
    "out_of_office/03-exchange-de-abwesenheit.eml": {"return_date": dt.date(2026, 3, 16)},
    "out_of_office/04-exchange-fr-absence.eml": {"return_date": dt.date(2026, 3, 14)},
    "out_of_office/05-exchange-es-fuera-de-la-oficina.eml": {"return_date": dt.date(2026, 3, 14)},
    "out_of_office/06-icloud-en-no-date.eml": {"return_date": None},
    "out_of_office/07-plain-annual-leave-no-headers.eml": {"return_date": dt.date(2026, 3, 20)},
    "out_of_office/08-gmail-de-abwesenheitsnotiz.eml": {"return_date": dt.date(2026, 3, 14)},
    "wrong_person/01-gmail-en-contact-colleague.eml": {"referred_email": "mark.jones@hart-distribution.com"},
    "wrong_person/02-exchange-en-left-company.eml": {
        "referred_email": "sales-ops@acme-transport.co.uk",
        "automatic": True,
    },
    "wrong_person/03-outlook-de-nicht-zustaendig.eml": {"referred_email": "petra.keller@beispiel-gmbh.de"},
    "wrong_person/04-gmail-fr-pas-la-bonne-personne.eml": {"referred_email": "achats@exemple-sarl.fr"},
    "wrong_person/05-outlook-es-ya-no-trabaja.eml": {"referred_email": "compras@ejemplo.es"},
    "wrong_person/06-gmail-en-cc-colleague.eml": {"referred_email": "priya.shah@brightway-couriers.io"},
    "wrong_person/07-html-only-en-forwarded-to-coo.eml": {"referred_email": ""},
    "wrong_person/08-gmail-en-forwarded-to-dispatch.eml": {"referred_email": "dan.kowalski@petrov-cargo.com"},
    "bounce/01-postfix-dsn-hard.eml": {
        "bounce_kind": "hard",
        "bounce_recipient": "g.hughes@hughes-haulage.co.uk",
        "bounce_status": "5.1.1",
        "original_message_id": "<20260302091500.4f2a9c1e.71@example-sender.com>",
    },
    "bounce/02-gmail-dsn-failure.eml": {
        "bounce_kind": "hard",
        "bounce_recipient": "olivia.reyes@reyes-produce.com",
        "original_message_id": "<20260302091500.4f2a9c1e.72@example-sender.com>",
    },
    "bounce/03-exchange-ndr-undeliverable.eml": {
        "bounce_kind": "hard",
        "bounce_recipient": "m.obrien@contoso-foods.com",
        "bounce_status": "5.1.10",
    },
    "bounce/04-postfix-dsn-delayed-soft.eml": {
        "bounce_kind": "soft",
        "bounce_recipient": "info@lakeside-haulage.ie",
    },
    "bounce/05-exim-plain-mail-delivery-failed.eml": {
        "bounce_kind": "hard",
        "bounce_recipient": "w.jensen@jensen-shipping.dk",
        "original_message_id": "<20260302091500.4f2a9c1e.75@example-sender.com>",
    },
    "bounce/06-qmail-plain-failure-notice.eml": {
        "bounce_kind": "hard",
        "bounce_recipient": "p.wright@oldhost-freight.net",
    },
    "bounce/07-plain-postfach-voll-soft.eml": {
        "bounce_kind": "soft",
        "bounce_recipient": "h.vogel@vogel-transporte.de",
    },
    "auto_reply_other/01-zendesk-ticket-received.eml": {"automatic": True},
    "interested/01-gmail-en-tell-me-more.eml": {"automatic": False, "language": "en"},
    "meeting_request/03-gmail-de-termin.eml": {"language": "de"},
    "question/04-apple-fr-tarif.eml": {"language": "fr"},
    "not_interested/05-outlook-es-no-nos-interesa.eml": {"language": "es"},
}


@pytest.mark.parametrize("relative", sorted(DETAILS))
def test_corpus_replies_yield_their_details(relative):
    result = classify(load(CORPUS / relative))
    assert str(result.category) == relative.split("/")[0], result.reason
    for field, want in DETAILS[relative].items():
        assert getattr(result, field) == want, f"{field}: {result}"
    assert result.reason and result.cost == 0 and result.classifier == "offline"


def test_our_own_mailbox_is_never_the_referral():
    message = load(CORPUS / "wrong_person/08-gmail-en-forwarded-to-dispatch.eml")
    del message["To"]
    message["To"] = "sam@example-sender.com"  # only we and the writer are left
    assert classify(message, own_addresses=["sam@example-sender.com"]).referred_email == ""


# --- new text only ------------------------------------------------------------------------------

GMAIL_REPLY = """
From: Jane Doe <jane@acme.example>
To: sam@example-sender.com
Subject: Re: Routes
Date: Mon, 2 Mar 2026 11:00:00 +0000
In-Reply-To: <1@example-sender.com>

Thanks for the note.

On Mon, 2 Mar 2026 at 09:15, Sam Carter <sam@example-sender.com> wrote:
> Interested? If not, unsubscribe here.
"""


def test_words_in_the_quoted_history_do_not_count():
    assert str(classify(parse(GMAIL_REPLY)).category) == ReplyCategory.OTHER
    # The same words as the writer's own: they do.
    assert str(
        classify(parse(GMAIL_REPLY.replace("Thanks for the note.", "Please unsubscribe me."))).category
    ) == (ReplyCategory.UNSUBSCRIBE_REQUEST)


@pytest.mark.parametrize(
    "history",
    [
        "> Interested? Reply unsubscribe.\n> Sam",
        "On Mon, 2 Mar 2026 at 09:15, Sam Carter <\nsam@example-sender.com> wrote:\n\nunsubscribe",
        "Am Mo., 2. März 2026 um 09:15 Uhr schrieb Sam Carter <sam@example-sender.com>:\nKein Interesse?",
        "Am 02.03.2026 um 09:15 schrieb Sam Carter <sam@example-sender.com>:\n\nabmelden",
        "Le lun. 2 mars 2026 à 09:15, Sam Carter <sam@example-sender.com> a écrit :\ndésinscrire",
        "Le 2 mars 2026 à 09:15, Sam Carter <sam@example-sender.com> a\nécrit :\ndésinscrire",
        "El lun, 2 mar 2026 a las 9:15, Sam Carter (<sam@example-sender.com>) escribió:\nbaja",
        "-----Original Message-----\nFrom: Sam\nunsubscribe",
        "-----Ursprüngliche Nachricht-----\nVon: Sam\nabmelden",
        "From: Sam Carter <sam@example-sender.com>\nSent: Monday, March 2, 2026 9:15 AM\nTo: Jane\n"
        "Subject: Routes\n\nunsubscribe",
        "Von: Sam Carter <sam@example-sender.com>\nGesendet: Montag, 2. März 2026 10:15\nAn: Jane\n"
        "Betreff: Routen\n\nabmelden",
        "De : Sam Carter\nEnvoyé : lundi 2 mars 2026 09:15\nÀ : Claire\nObjet : Trajets\n\ndésinscrire",
        "De: Sam Carter\nEnviado: lunes, 2 de marzo de 2026 9:15\nPara: Laura\nAsunto: Rutas\n\nbaja",
        "________________________________\nFrom: Sam\nunsubscribe",
        "---------- Forwarded message ---------\nFrom: Sam\nunsubscribe",
        "Begin forwarded message:\n\nFrom: Sam\nunsubscribe",
        "-- \nJane Doe | Acme\nTo unsubscribe from our newsletter click here",
        "Sent from my iPhone\n\n> On 2 Mar: unsubscribe",
        "Von meinem iPhone gesendet",
        "CONFIDENTIALITY NOTICE: if you are not interested, unsubscribe.",
        "This email and any attachments are confidential. Unsubscribe: reply STOP.",
        "Quoting Sam Carter <sam@example-sender.com>:\n\nunsubscribe",
    ],
)
def test_quoted_history_signatures_and_disclaimers_are_stripped(history):
    assert strip_quoted(f"Sounds good.\n\n{history}\n") == "Sounds good."


def test_text_after_quote_lines_is_kept_and_a_sentence_starting_with_on_is_not_an_attribution():
    text = "> your question\nMy answer.\nOn the other hand, we might.\nThanks"
    assert strip_quoted(text) == "My answer.\nOn the other hand, we might.\nThanks"


def test_html_to_text_drops_quoted_blocks_styles_and_outlook_history():
    html = (
        "<html><head><style>p {color: red}</style></head><body><div>Yes&nbsp;please,</div>"
        "<div>send&nbsp;details.</div><div class='gmail_quote'>On Mon wrote:<blockquote>unsubscribe"
        "</blockquote></div><p>After quote</p><div id='divRplyFwdMsg'><b>From:</b> Sam</div>"
        "<div>not interested</div></body></html>"
    )
    assert html_to_text(html) == "Yes please,\n\nsend details.\n\nAfter quote"
    assert html_to_text("<p>a<br>b</p><blockquote type='cite'><p>remove me</p></blockquote>") == "a\nb"


# --- return dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am back on 14 March.", dt.date(2026, 3, 14)),
        ("I will return on Monday, 16 March 2026.", dt.date(2026, 3, 16)),
        ("I'm out until March 13th inclusive.", dt.date(2026, 3, 14)),
        ("Out of office, returning on 03/16.", dt.date(2026, 3, 16)),
        ("I'm away from 2 March to 13 March and back on the 16th of March.", dt.date(2026, 3, 16)),
        ("Back Monday.", dt.date(2026, 3, 9)),
        ("I will be back in the office on 2026-03-18.", dt.date(2026, 3, 18)),
        ("Ich bin zurück am 14.03.", dt.date(2026, 3, 14)),
        ("Ab dem 16.03.2026 bin ich wieder im Büro.", dt.date(2026, 3, 16)),
        ("Ich bin bis einschließlich 13. März nicht erreichbar.", dt.date(2026, 3, 14)),
        ("Ich bin vom 2. bis 13.03. im Urlaub.", dt.date(2026, 3, 13)),
        ("Je serai de retour le 14 mars.", dt.date(2026, 3, 14)),
        ("Je suis absent du 2 au 13 mars inclus.", dt.date(2026, 3, 14)),
        ("Absente jusqu'au 20 mars 2026.", dt.date(2026, 3, 20)),
        ("Estaré de regreso el 14 de marzo.", dt.date(2026, 3, 14)),
        ("Estoy fuera de la oficina hasta el 13/03/2026.", dt.date(2026, 3, 13)),
        ("Volveré el lunes 16 de marzo de 2026.", dt.date(2026, 3, 16)),
        ("Back on 5 January.", dt.date(2027, 1, 5)),  # no year: the next 5 January
        ("I am on holiday, with limited access to email.", None),
        ("Your email of 2 March has been received.", None),  # a date, but no return phrase
        ("Back on 31 February.", None),
    ],
)
def test_return_dates_in_four_languages(text, expected):
    assert parse_return_date(text, WRITTEN) == expected


# --- referrals ----------------------------------------------------------------------------------


def test_the_referred_address_is_the_one_in_the_text_nearest_the_referral():
    text = (
        "Our office address is reception@acme.example. I'm not the right person; "
        "please contact Mark (mark@acme.example), he runs the fleet."
    )
    assert extract_referred_email(text, exclude=[], sender="jane@acme.example") == "mark@acme.example"
    assert extract_referred_email("Write to BOB@Acme.example.", exclude=[]) == "bob@acme.example"


def test_without_an_address_in_the_text_a_colleague_on_the_cc_or_to_line_is_the_referral():
    assert (
        extract_referred_email(
            "I've cc'd Priya.",
            exclude=["sam@example-sender.com"],
            cc=["sam@example-sender.com", "priya@acme.example"],
            to=["sam@example-sender.com"],
            sender="tom@acme.example",
        )
        == "priya@acme.example"
    )
    assert (
        extract_referred_email("Not me.", exclude=[], to=["sam@us.example"], sender="tom@acme.example") == ""
    )


def test_the_writer_and_our_own_addresses_are_never_the_referral():
    text = "Reply to jane@acme.example or sam@example-sender.com"
    assert extract_referred_email(text, exclude=["sam@example-sender.com"], sender="jane@acme.example") == ""


# --- delivery reports ---------------------------------------------------------------------------

DSN = """
From: MAILER-DAEMON@mx.example-sender.com (Mail Delivery System)
To: bounces@example-sender.com
Subject: Undelivered Mail Returned to Sender
Date: Mon, 2 Mar 2026 09:15:07 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery report.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example-sender.com

Final-Recipient: rfc822; ok@acme.example
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--B--
"""


@pytest.mark.parametrize(
    ("action", "status", "diagnostic", "kind"),
    [
        ("failed", "5.1.1", "550 5.1.1 User unknown", "hard"),
        ("failed", "5.7.1", "550 5.7.1 Relaying denied", "hard"),
        ("failed", "5.2.2", "552 5.2.2 Mailbox full", "soft"),
        ("failed", "4.2.0", "450 4.2.0 Try again later", "soft"),
        ("delayed", "4.4.7", "Message delayed", "soft"),
    ],
)
def test_a_delivery_report_names_the_failed_recipient_and_the_kind(action, status, diagnostic, kind):
    raw = DSN.format(recipient="Bob@Acme.example", action=action, status=status, diagnostic=diagnostic)
    bounce = parse_delivery_report(parse(raw))
    assert (bounce.kind, bounce.recipient, bounce.status, bounce.action) == (
        kind,
        "bob@acme.example",
        status,
        action,
    )
    assert diagnostic in bounce.diagnostic
    result = classify(parse(raw))
    assert (str(result.category), result.bounce_kind, result.automatic) == ("bounce", kind, True)


def test_a_report_of_successful_delivery_is_no_bounce():
    raw = DSN.format(recipient="bob@acme.example", action="relayed", status="2.0.0", diagnostic="ok")
    assert parse_delivery_report(parse(raw)) is None
    assert str(classify(parse(raw)).category) == ReplyCategory.AUTO_REPLY_OTHER


def test_a_person_writing_returned_mail_in_the_subject_is_not_a_bounce():
    raw = """
From: Jane <jane@acme.example>
To: sam@example-sender.com
Subject: Re: Returned mail from last week
Date: Mon, 2 Mar 2026 11:00:00 +0000

Sounds interesting, tell me more.
"""
    assert str(classify(parse(raw)).category) == ReplyCategory.INTERESTED


# --- the header rule, shared with the inbound webhook path --------------------------------------


def test_is_auto_reply_is_the_classifier_header_rule():
    assert is_auto_reply({"Auto-Submitted": "auto-replied"})
    assert not is_auto_reply({"Auto-Submitted": "no"}, "Re: your note")
    assert is_auto_reply({"X-Autorespond": "x"})
    assert is_auto_reply({}, "Réponse automatique : absent")
    message = load(CORPUS / "auto_reply_other/04-x-autorespond-de-anfrage.eml")
    assert classify(message).automatic
    assert not classify(load(CORPUS / "question/01-gmail-en-pricing.eml")).automatic


def test_odd_mail_never_raises():
    assert str(classify(parse("From: x@y.example\n\n")).category) == ReplyCategory.OTHER
    odd = parse("From: x@y.example\nContent-Type: text/plain; charset=klingon\n\nno thanks\n")
    assert str(classify(odd).category) == ReplyCategory.NOT_INTERESTED
