"""Static vocabularies the synthetic generator draws from.

Everything here is plain data: recipient domains and their mailbox providers, sender brands, the
mail programs a sender runs (with campaign words, template slugs, subjects and links), SMTP
responses per bounce class, user agents and geo-IP places. Values are shaped after the SparkPost
samples in ``fixtures/sparkpost`` and sparkpost.md; the brands and corporate domains are invented.
"""

from __future__ import annotations

from typing import NamedTuple


class MailboxDomain(NamedTuple):
    """A recipient domain with the mailbox provider SparkPost reports for it."""

    domain: str
    provider: str
    region: str
    weight: int
    # First two octets of the provider's inbound MX hosts; the rest is drawn per message.
    mx_prefix: str


# Weights are per mille of recipients; the consumer mailbox shares follow typical B2C lists.
MAILBOX_DOMAINS: tuple[MailboxDomain, ...] = (
    MailboxDomain("gmail.com", "Gmail", "Global", 290, "142.250"),
    MailboxDomain("googlemail.com", "Gmail", "Europe", 8, "142.250"),
    MailboxDomain("yahoo.com", "Yahoo", "North America", 70, "98.136"),
    MailboxDomain("yahoo.co.uk", "Yahoo", "Europe", 14, "67.195"),
    MailboxDomain("mail.yahoo.com", "Yahoo", "North America", 6, "98.136"),
    MailboxDomain("yahoo.fr", "Yahoo", "Europe", 6, "67.195"),
    MailboxDomain("ymail.com", "Yahoo", "North America", 5, "98.136"),
    MailboxDomain("outlook.com", "Hotmail", "Global", 60, "104.47"),
    MailboxDomain("hotmail.com", "Hotmail", "Global", 70, "104.47"),
    MailboxDomain("hotmail.co.uk", "Hotmail", "Europe", 12, "104.47"),
    MailboxDomain("live.com", "Hotmail", "Global", 14, "104.47"),
    MailboxDomain("msn.com", "Hotmail", "North America", 6, "104.47"),
    MailboxDomain("icloud.com", "Apple", "Global", 45, "17.57"),
    MailboxDomain("me.com", "Apple", "Global", 8, "17.57"),
    MailboxDomain("aol.com", "AOL", "North America", 20, "67.195"),
    MailboxDomain("comcast.net", "Comcast", "North America", 12, "96.114"),
    MailboxDomain("verizon.net", "AOL", "North America", 4, "67.195"),
    MailboxDomain("att.net", "Yahoo", "North America", 6, "98.136"),
    MailboxDomain("gmx.de", "GMX", "Europe", 12, "212.227"),
    MailboxDomain("web.de", "Web.de", "Europe", 10, "212.227"),
    MailboxDomain("t-online.de", "T-Online", "Europe", 6, "194.25"),
    MailboxDomain("orange.fr", "Orange", "Europe", 8, "80.12"),
    MailboxDomain("free.fr", "Free", "Europe", 5, "212.27"),
    MailboxDomain("libero.it", "Libero", "Europe", 4, "213.209"),
    MailboxDomain("btinternet.com", "BT", "Europe", 5, "213.120"),
    MailboxDomain("yandex.ru", "Yandex", "Europe", 6, "77.88"),
    MailboxDomain("mail.ru", "Mail.ru", "Europe", 5, "94.100"),
    MailboxDomain("qq.com", "QQ", "Asia Pacific", 6, "183.3"),
    MailboxDomain("naver.com", "Naver", "Asia Pacific", 3, "125.209"),
    MailboxDomain("bigpond.com", "Telstra", "Asia Pacific", 3, "203.36"),
    MailboxDomain("uol.com.br", "UOL", "Latin America", 3, "200.147"),
    MailboxDomain("protonmail.com", "Proton", "Europe", 4, "185.70"),
)

# Business recipients: Google Workspace and Microsoft 365 tenants, reported as such by SparkPost.
CORPORATE_DOMAINS: tuple[str, ...] = (
    "acme-corp.com",
    "globex.com",
    "initech.com",
    "umbrella-corp.co.uk",
    "hooli.com",
    "vandelay-industries.com",
    "wonka-industries.com",
    "soylent.co",
    "cyberdyne.io",
    "tyrell-corp.com",
    "massive-dynamic.com",
    "aperture-science.com",
    "dundermifflin.com",
    "prestige-worldwide.com",
    "nakatomi.co.jp",
    "weyland-yutani.com",
    "gringotts-bank.co.uk",
    "buynlarge.com",
    "oceanic-airlines.com",
    "stark-industries.com",
    "blue-sun.com",
    "wernham-hogg.co.uk",
    "sterling-cooper.com",
    "kwik-e-mart.com",
    "monarch-solutions.de",
    "lumon-industries.com",
    "pendant-publishing.com",
    "bluth-company.com",
    "rekall.io",
    "omnicorp.net",
)
CORPORATE_WEIGHT = 120
CORPORATE_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("Gsuite", "35.190"),
    ("Office 365", "52.101"),
    ("Other", "203.0"),
)

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Sandra", "Paul", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda",
    "Kevin", "Melissa",
    "Brian", "Stephanie", "George", "Rebecca", "Oliver", "Amelia", "Lucas", "Sofia", "Noah", "Emma",
    "Liam", "Olivia", "Mateo", "Chloe", "Hugo", "Lea", "Jonas", "Hanna", "Yuki", "Mei", "Arjun",
    "Priya", "Omar", "Fatima", "Diego", "Camila", "Ivan", "Anya", "Kwame", "Amara", "Sean", "Aoife",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner",
    "Mueller", "Schmidt", "Dubois", "Rossi", "Jansen", "Nowak", "Kowalski", "Tanaka", "Suzuki",
    "Kim", "Park", "Chen", "Wang", "Singh", "Patel", "Khan", "Silva", "Santos", "Ivanov", "Murphy",
    "O'Brien", "Okafor", "Mensah",
)  # fmt: skip


class Brand(NamedTuple):
    """A sender: one SparkPost subaccount with its own domains and IP pools."""

    name: str
    domain: str
    mail_subdomain: str
    news_subdomain: str


BRANDS: tuple[Brand, ...] = (
    Brand("Acme Shop", "acmeshop.com", "mail", "news"),
    Brand("Globex Travel", "globextravel.com", "mail", "deals"),
    Brand("Initech Cloud", "initech.io", "notify", "updates"),
    Brand("Umbrella Health", "umbrella-health.co.uk", "mail", "news"),
    Brand("Stark Outfitters", "starkoutfitters.com", "orders", "style"),
    Brand("Wayne Finance", "waynefinance.com", "secure", "insights"),
    Brand("Hooli Music", "hoolimusic.com", "mail", "news"),
    Brand("Pied Piper", "piedpiper.net", "app", "blog"),
    Brand("Vandelay Imports", "vandelay.co", "mail", "offers"),
    Brand("Soylent Kitchen", "soylentkitchen.com", "orders", "recipes"),
    Brand("Oscorp Labs", "oscorplabs.com", "notify", "news"),
    Brand("Cyberdyne Games", "cyberdynegames.com", "account", "play"),
)


class Program(NamedTuple):
    """A kind of mail a brand sends: words for campaign names, a template slug, subjects, links.

    ``words`` are the campaign's name words; campaign names are built from them in several
    spellings (``black-friday``, ``black_friday_2026``, ``Black Friday``...) so keyword search on
    campaigns has words shared across names.
    """

    words: tuple[str, ...]
    suffixes: tuple[str, ...]
    template: str
    subjects: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    transactional: bool
    tags: tuple[str, ...]
    weight: int


PROGRAMS: tuple[Program, ...] = (
    Program(
        ("password", "reset"),
        ("", "request", "confirmation"),
        "password-reset",
        (
            "Reset your password",
            "Your password reset request",
            "Your password was successfully reset",
        ),
        (("Reset password", "https://{web}/account/reset"),),
        True,
        ("transactional", "security"),
        14,
    ),
    Program(
        ("order", "confirmation"),
        ("", "v2", "eu"),
        "order-confirmation",
        ("Thanks for your order", "Your order has been received", "Order confirmation #{order}"),
        (("View order", "https://{web}/orders/{order}"), ("Track package", "https://{web}/track")),
        True,
        ("transactional", "orders"),
        18,
    ),
    Program(
        ("shipping", "update"),
        ("", "delivered", "delayed"),
        "order-shipped",
        ("Your order has shipped", "Your package is on its way", "Your order has been delivered"),
        (("Track package", "https://{web}/track/{order}"),),
        True,
        ("transactional", "orders", "shipping"),
        14,
    ),
    Program(
        ("welcome",),
        ("series", "email", "day-1", "day-3"),
        "welcome",
        (
            "Welcome to {brand}!",
            "Getting started with {brand}",
            "{first}, your first week with {brand}",
        ),
        (
            ("Get started", "https://{web}/start"),
            ("Complete your profile", "https://{web}/profile"),
        ),
        False,
        ("onboarding",),
        8,
    ),
    Program(
        ("weekly", "digest"),
        ("", "newsletter", "edition"),
        "weekly-digest",
        ("Your weekly digest", "This week at {brand}", "Weekly Digest: top stories for {first}"),
        (("Read more", "https://{news}/digest"), ("Top story", "https://{news}/stories/top")),
        False,
        ("newsletter", "weekly"),
        12,
    ),
    Program(
        ("black", "friday"),
        ("specials", "early access", "vip", "last chance"),
        "blackfriday",
        (
            "Black Friday specials start now",
            "Black Friday: up to 50% off everything",
            "Last chance: Black Friday deals end tonight",
        ),
        (("Shop now", "https://{web}/sale/black-friday"), ("See all deals", "https://{web}/deals")),
        False,
        ("promo", "black-friday", "sale"),
        9,
    ),
    Program(
        ("cyber", "monday"),
        ("deals", "extended"),
        "cybermonday",
        ("Cyber Monday deals are live", "Cyber Monday extended: 24 more hours"),
        (("Shop now", "https://{web}/sale/cyber-monday"),),
        False,
        ("promo", "sale"),
        5,
    ),
    Program(
        ("summer", "sale"),
        ("", "week 2", "final days"),
        "summer-sale",
        ("Summer deals are here!", "Summer sale: new markdowns", "Final days of the summer sale"),
        (("Shop the sale", "https://{web}/sale/summer"),),
        False,
        ("promo", "seasonal", "sale"),
        6,
    ),
    Program(
        ("cart", "abandonment"),
        ("reminder", "24h", "discount"),
        "cart-reminder",
        (
            "You left something in your cart",
            "Still thinking it over, {first}?",
            "Your cart is about to expire",
        ),
        (("Return to cart", "https://{web}/cart"),),
        False,
        ("automation", "cart"),
        7,
    ),
    Program(
        ("invoice",),
        ("monthly", "ready", "receipt"),
        "invoice",
        ("Your invoice is ready", "Payment received - thank you", "Your receipt from {brand}"),
        (("View invoice", "https://{web}/billing/invoices/{order}"),),
        True,
        ("transactional", "billing"),
        8,
    ),
    Program(
        ("account", "verification"),
        ("", "email"),
        "verify-email",
        ("Verify your email address", "Confirm your account", "Please confirm your email, {first}"),
        (("Verify email", "https://{web}/verify"),),
        True,
        ("transactional", "security"),
        7,
    ),
    Program(
        ("login", "alert"),
        ("", "new device"),
        "security-alert",
        ("New sign-in to your account", "Security alert: new device signed in"),
        (("Review activity", "https://{web}/security"),),
        True,
        ("transactional", "security"),
        5,
    ),
    Program(
        ("product", "launch"),
        ("teaser", "announcement"),
        "product-launch",
        ("Introducing something new from {brand}", "It's here: meet the new collection"),
        (("Discover", "https://{web}/new"), ("Watch the video", "https://{web}/launch/video")),
        False,
        ("announcement",),
        4,
    ),
    Program(
        ("monthly", "newsletter"),
        ("", "members"),
        "monthly-newsletter",
        ("{brand} Newsletter", "What's new at {brand} this month", "Your monthly update"),
        (("Read the newsletter", "https://{news}/newsletter"),),
        False,
        ("newsletter", "monthly"),
        7,
    ),
    Program(
        ("win", "back"),
        ("we miss you", "last call"),
        "reengagement",
        ("We miss you, {first}", "It's been a while - here's 20% off", "Is this goodbye?"),
        (("Come back", "https://{web}/welcome-back"),),
        False,
        ("reengagement",),
        4,
    ),
    Program(
        ("review", "request"),
        ("", "follow-up"),
        "review-request",
        ("How was your order?", "Tell us what you think", "Rate your recent purchase"),
        (("Write a review", "https://{web}/reviews/new"),),
        False,
        ("feedback",),
        4,
    ),
    Program(
        ("back", "in", "stock"),
        ("alert",),
        "back-in-stock",
        ("It's back in stock!", "Good news: your item is back in stock"),
        (("Buy now", "https://{web}/products/restock"),),
        True,
        ("alerts",),
        3,
    ),
    Program(
        ("birthday",),
        ("offer", "greeting"),
        "birthday",
        ("Happy birthday, {first}!", "A birthday treat from {brand}"),
        (("Claim your gift", "https://{web}/gift"),),
        False,
        ("automation", "birthday"),
        2,
    ),
)

# Link every program carries at the bottom; clicks on it become link_unsubscribe events.
UNSUBSCRIBE_LINK = ("Unsubscribe", "https://{web}/unsubscribe")

# Words for ``rcpt_meta`` and ``rcpt_subs``.
TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")
LOCALES: tuple[str, ...] = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT", "pt-BR", "ja-JP")
INTERESTS: tuple[str, ...] = (
    "shoes", "outdoor", "electronics", "books", "travel", "fitness", "kitchen", "kids", "music",
    "gaming", "beauty", "garden",
)  # fmt: skip
SEGMENTS: tuple[str, ...] = ("new", "active", "lapsed", "vip", "trial", "churn-risk")
COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "BR", "JP", "CA", "AU")


class Reason(NamedTuple):
    """An SMTP response; ``{ip}`` stands for the address SparkPost masks as ``a.b.c.d``."""

    error_code: str
    text: str


BOUNCE_REASONS: dict[int, tuple[Reason, ...]] = {
    1: (
        Reason("554", "554 5.0.0 Unrecognized response from the remote server"),
        Reason("550", "550 Requested action not taken: [{ip}] message rejected"),
    ),
    10: (
        Reason(
            "550",
            "550 5.1.1 The email account that you tried to reach does not exist. Please try "
            "double-checking the recipient's email address for typos or unnecessary spaces. "
            "https://support.google.com/mail/?p=NoSuchUser - gsmtp",
        ),
        Reason("554", "554 delivery error: dd This user doesn't have a yahoo.com account - mta1"),
        Reason(
            "550",
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [{ip}]",
        ),
        Reason(
            "550", "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
        ),
    ),
    20: (Reason("550", "550 5.2.1 The email account that you tried to reach is disabled."),),
    21: (
        Reason("554", "554 5.4.4 [internal] Domain Lookup Failed: no MX or A record found"),
        Reason("451", "451 4.4.0 DNS temporary failure resolving MX for the recipient domain"),
    ),
    22: (
        Reason(
            "552",
            "552 5.2.2 The email account that you tried to reach is over quota. "
            "https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
        ),
        Reason("452", "452 4.2.2 Mailbox full: user is over quota [{ip}]"),
    ),
    23: (Reason("552", "552 5.3.4 Message size exceeds fixed limit"),),
    24: (
        Reason("421", "421 4.4.2 [internal] Connection to [{ip}] timed out"),
        Reason("451", "451 4.4.1 [internal] No response from remote host [{ip}]"),
    ),
    25: (
        Reason("554", "554 5.7.1 recipient address suppressed due to customer policy"),
        Reason("554", "554 5.7.1 [internal] recipient domain is on the suppression list"),
    ),
    30: (Reason("550", "550 5.1.0 [internal] No recipient could be determined"),),
    40: (Reason("554", "554 5.0.0 Message rejected for unspecified reasons"),),
    50: (
        Reason(
            "554",
            "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org",
        ),
        Reason("550", "550 5.7.1 Connection from [{ip}] refused by policy"),
    ),
    51: (
        Reason("554", "554 5.7.1 [{ip}] is listed on the Spamhaus blocklist (SBL)"),
        Reason(
            "550",
            "550 SC-001 (BAY004-MC1F12) Unfortunately, messages from {ip} weren't sent. "
            "Please contact your Internet service provider since part of their network is on "
            "our block list.",
        ),
    ),
    52: (
        Reason(
            "550",
            "550 5.7.1 [{ip}] Our system has detected that this message is likely unsolicited "
            "mail. To reduce the amount of spam sent to Gmail, this message has been blocked.",
        ),
    ),
    53: (
        Reason(
            "552",
            "552 5.7.0 This message was blocked because its content presents a "
            "potential security issue.",
        ),
    ),
    54: (Reason("550", "550 5.7.1 Relaying denied for [{ip}]"),),
    60: (Reason("250", "250 Auto-Reply: I am out of the office until Monday"),),
    70: (
        Reason(
            "421",
            "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume "
            "or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        ),
        Reason("451", "451 4.7.650 The mail server [{ip}] has been temporarily rate limited"),
    ),
    90: (Reason("250", "250 Unsubscribe request received"),),
    100: (Reason("250", "250 Challenge-response verification required"),),
}

# Class shares among bounces, in percent (sparkpost.md §5: invalid recipients dominate, then
# blocks and soft failures).
BOUNCE_CLASS_WEIGHTS: tuple[tuple[int, int], ...] = (
    (10, 38), (30, 4), (20, 4), (21, 5), (22, 8), (23, 1), (24, 3), (25, 8), (1, 6), (40, 3),
    (50, 7), (51, 6), (52, 4), (53, 1), (54, 2),
)  # fmt: skip
DELAY_CLASS_WEIGHTS: tuple[tuple[int, int], ...] = (
    (21, 10), (22, 15), (24, 20), (70, 25), (50, 15), (51, 10), (20, 5),
)  # fmt: skip
OUT_OF_BAND_CLASS_WEIGHTS: tuple[tuple[int, int], ...] = (
    (10, 40), (60, 20), (100, 5), (90, 5), (50, 10), (51, 10), (20, 10),
)  # fmt: skip

GENERATION_FAILURES: tuple[Reason, ...] = (
    Reason("554", "554 5.3.3 [internal] Error while rendering part html: substitution "
                  "language error: unknown variable 'first_name'"),
    Reason("554", "554 5.3.3 [internal] Error while rendering part text: line 4: "
                  "unterminated each block"),
    Reason("554", "554 5.3.3 [internal] Template not found or not published"),
)  # fmt: skip
GENERATION_REJECTION = Reason(
    "554", "554 5.7.1 recipient address suppressed due to customer policy"
)
POLICY_REJECTIONS: tuple[Reason, ...] = (
    Reason("554", "554 5.7.1 recipient address suppressed due to customer policy"),
    Reason("554", "554 5.7.1 [internal] Message generation rejected: sending limit exceeded"),
)
RELAY_REJECTIONS: tuple[Reason, ...] = (
    Reason("550", "550 5.7.1 Unconfigured Sending Domain <{ip}>"),
    Reason("554", "554 5.7.1 Message rejected: sender [{ip}] is on a blocklist"),
)
RELAY_FAILURES: tuple[Reason, ...] = (
    Reason("500", "500 Internal Server Error from relay webhook target [{ip}]"),
    Reason("421", "421 4.4.2 [internal] Connection to relay webhook target [{ip}] timed out"),
)

# (user agent, share in percent) for clicks and for opens that do not go through an image proxy.
USER_AGENTS: tuple[tuple[str, int], ...] = (
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Mobile/15E148", 24),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", 18),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.6367.82 Mobile Safari/537.36", 14),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", 8),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17425; Pro)", 8),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 5),
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Mobile/15E148", 5),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_3) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/41.0.2272.118 Safari/537.36", 3),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/123.0.0.0 Safari/537.36", 3),
    ("lynx", 1),
    ("curl/8.4.0", 1),
)  # fmt: skip

# Opens fetched by a mailbox provider's image proxy carry the proxy's user agent and address.
GOOGLE_PROXY_UA = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
GOOGLE_PROXY_PREFIX = "66.249"
APPLE_PROXY_UA = "Mozilla/5.0"
APPLE_PROXY_PREFIX = "17.58"


class Place(NamedTuple):
    """A geo-IP location as SparkPost reports it on engagement events."""

    country: str
    region: str
    city: str
    latitude: float
    longitude: float
    postal_code: str


PLACES: tuple[Place, ...] = (
    Place("US", "MD", "Columbia", 39.1749, -76.8375, "21046"),
    Place("US", "NY", "New York", 40.7128, -74.006, "10001"),
    Place("US", "NY", "Bronx", 40.8499, -73.8769, "10451"),
    Place("US", "CA", "Mountain View", 37.4056, -122.0775, "94043"),
    Place("US", "CA", "Los Angeles", 34.0522, -118.2437, "90012"),
    Place("US", "CA", "San Francisco", 37.7749, -122.4194, "94103"),
    Place("US", "TX", "Austin", 30.2672, -97.7431, "78701"),
    Place("US", "TX", "Houston", 29.7604, -95.3698, "77002"),
    Place("US", "IL", "Chicago", 41.8781, -87.6298, "60601"),
    Place("US", "WA", "Seattle", 47.6062, -122.3321, "98101"),
    Place("US", "FL", "Miami", 25.7617, -80.1918, "33101"),
    Place("US", "MA", "Boston", 42.3601, -71.0589, "02108"),
    Place("US", "CO", "Denver", 39.7392, -104.9903, "80202"),
    Place("US", "GA", "Atlanta", 33.749, -84.388, "30303"),
    Place("CA", "ON", "Toronto", 43.6532, -79.3832, "M5H"),
    Place("CA", "BC", "Vancouver", 49.2827, -123.1207, "V6B"),
    Place("GB", "ENG", "London", 51.5074, -0.1278, "EC1A"),
    Place("GB", "ENG", "Manchester", 53.4808, -2.2426, "M1"),
    Place("GB", "SCT", "Edinburgh", 55.9533, -3.1883, "EH1"),
    Place("IE", "L", "Dublin", 53.3498, -6.2603, "D01"),
    Place("DE", "BE", "Berlin", 52.52, 13.405, "10115"),
    Place("DE", "BY", "Munich", 48.1351, 11.582, "80331"),
    Place("DE", "HH", "Hamburg", 53.5511, 9.9937, "20095"),
    Place("FR", "IDF", "Paris", 48.8566, 2.3522, "75001"),
    Place("FR", "ARA", "Lyon", 45.764, 4.8357, "69001"),
    Place("ES", "MD", "Madrid", 40.4168, -3.7038, "28001"),
    Place("IT", "25", "Milan", 45.4642, 9.19, "20121"),
    Place("NL", "NH", "Amsterdam", 52.3676, 4.9041, "1012"),
    Place("BR", "SP", "Sao Paulo", -23.5505, -46.6333, "01000"),
    Place("JP", "13", "Tokyo", 35.6762, 139.6503, "100-0001"),
    Place("AU", "NSW", "Sydney", -33.8688, 151.2093, "2000"),
    Place("IN", "KA", "Bengaluru", 12.9716, 77.5946, "560001"),
)

# Feedback-loop reporters by mailbox provider: (report_by, report_to, user_str).
FEEDBACK_LOOPS: dict[str, tuple[str, str, str]] = {
    "Yahoo": ("feedback.yahoo.com", "fbl@sparkpostmail.com", "Yahoo! Inc."),
    "AOL": ("scomp.aol.com", "fbl@sparkpostmail.com", "AOL Feedback Loop"),
    "Hotmail": ("jmrp.microsoft.com", "fbl@sparkpostmail.com", "Microsoft JMRP"),
    "Comcast": ("feedback.comcast.net", "fbl@sparkpostmail.com", "Comcast Feedback Loop"),
}
DEFAULT_FEEDBACK_LOOP = ("server.email.com", "abuse.example.com", "Additional Example Information")

# Legacy SMS fields, as in the 2016 documentation samples.
SMS_STATES: tuple[tuple[str, str], ...] = (
    ("SMSC Delivery", "Delivered"),
    ("SMSC Delivery", "Delivered"),
    ("SMSC Delivery", "Delivered"),
    ("SMSC Delivery", "Undeliverable"),
    ("SMSC Intermediate Notification", "Enroute"),
)
SMS_TEXTS: tuple[str, ...] = (
    "Your verification code is 481516",
    "Your order has shipped and arrives tomorrow",
    "Reminder: your appointment is at 10:30",
    "lol",
)
