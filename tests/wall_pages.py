"""Real-world shaped pages for the wall and rendering tests (served on loopback).

Shapes follow what such pages look like in the wild: a Cloudflare managed challenge, a
OneTrust consent banner, a single-page app's shell, a framework's 404 served with 200, a
maintenance page. The policy text is fictional.
"""

from __future__ import annotations

import html

POLICY_CLAUSES = [
    "We collect the information you give us when you create an account, such as your name "
    "and e-mail address.",
    "We collect the prompts you send and the outputs the service returns.",
    "We use your content to provide, maintain and improve the service.",
    "We do not use content submitted through the API to train our models unless you opt in.",
    "We keep conversation logs for 30 days, after which they are deleted.",
    "We share data with service providers who process it on our behalf under contract.",
    "We use reCAPTCHA on our sign-up form to keep automated accounts out; Google's privacy "
    "policy applies to it.",
    "Parts of our site need JavaScript: if you do not enable JavaScript in your browser, the "
    "privacy settings page and the data export tool may not work.",
    "We use cookies and similar technologies to keep you signed in, remember your preferences "
    "and understand how the service is used; you can manage them in the cookie settings.",
    "We protect your data with encryption in transit and at rest, access controls and regular "
    "security reviews, and we will notify you of a breach as the law requires.",
    "If you live in California, you have the right to know what personal information we "
    "collect, to delete it, to correct it and to opt out of its sale or sharing.",
    "You may access, correct or delete your personal data from your account settings.",
    "We transfer data outside the European Economic Area under standard contractual clauses.",
    "The service is not directed to children under 13.",
    "We may update this policy; we will tell you about material changes by e-mail.",
]

REWRITTEN_CLAUSES = [
    "Nimbus Labs Ltd is the controller of the personal data described in this notice.",
    "Account data: your name, e-mail address, billing address and payment method.",
    "Usage data: the features you use, device identifiers and approximate location.",
    "Model training: conversations may be used to train future models unless you opt out.",
    "Retention: we keep account data while your account is open and for two years after.",
    "Advertising partners receive hashed e-mail addresses for measurement purposes.",
    "Sub-processors are listed on our trust portal and may change with 14 days' notice.",
    "You may object to processing based on legitimate interests at any time.",
    "Disputes are resolved by binding arbitration in Delaware; class actions are waived.",
    "Our liability is limited to the fees you paid in the twelve months before the claim.",
    "This notice is governed by the laws of the State of Delaware.",
    "Contact our data protection officer at dpo@nimbus.example.",
]

CHROME_HEAD = """<header class="site-header"><a href="/">Nimbus</a>
<nav><a href="/product">Product</a> <a href="/pricing">Pricing</a> <a href="/legal">Legal</a></nav>
</header>"""
CHROME_FOOT = """<footer><p>&copy; 2026 Nimbus Labs. <a href="/legal/terms">Terms</a>
<a href="/legal/privacy">Privacy</a></p></footer>"""


def policy_page(clauses: list[str] = POLICY_CLAUSES, *, title: str = "Privacy Policy") -> bytes:
    """A server-rendered policy page with site chrome around its <main>."""
    items = "\n".join(f"<p>{html.escape(c)}</p>" for c in clauses)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Nimbus</title><script src="/static/analytics.js"></script></head><body>
{CHROME_HEAD}
<main><article class="legal"><h1>{title}</h1><p>Last updated: 1 March 2026</p>
{items}</article></main>
{CHROME_FOOT}</body></html>""".encode()


def consent_overlay_page(clauses: list[str] = POLICY_CLAUSES) -> bytes:
    """The policy under a OneTrust banner (markup as the OneTrust SDK injects it)."""
    banner = """<div id="onetrust-consent-sdk"><div class="onetrust-pc-dark-filter"></div>
<div id="onetrust-banner-sdk" class="otFlat" role="region" aria-label="Cookie banner">
<div id="onetrust-policy"><h2 id="onetrust-policy-title">We value your privacy</h2>
<p id="onetrust-policy-text">We and our 143 partners store and access information on your
device to personalise ads and content, measure ads and content and develop products.
<a href="/cookies">Cookie Policy</a></p></div><div id="onetrust-button-group">
<button id="onetrust-accept-btn-handler">Accept All Cookies</button>
<button id="onetrust-reject-all-handler">Reject All</button></div></div></div>"""
    page = policy_page(clauses).decode()
    return page.replace("</body>", banner + "</body>").encode()


def cloudflare_challenge(host: str = "www.nimbus.example") -> bytes:
    """A Cloudflare managed challenge ("Just a moment..."), as served to a non-browser."""
    return f"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15}}</style>
<meta http-equiv="refresh" content="390"></head><body class="no-js">
<div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">{host}</h1>
<h2 class="h2" id="challenge-running">Verifying you are human. This may take a few seconds.</h2>
<noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">
Enable JavaScript and cookies to continue</span></div></div></noscript>
<div id="challenge-body-text" class="core-msg spacer">{host} needs to review the security of
your connection before proceeding.</div></div></div>
<script>(function(){{window._cf_chl_opt={{cvId: '3',cZone: "{host}",cType: 'managed',
cRay: '8f1b2c3d4e5f6789',cH: 'x4Kq'}};var cpo = document.createElement('script');
cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f1b2c3d4e5f6789';
window._cf_chl_opt.cOgUHash = location.hash;document.getElementsByTagName('head')[0]
.appendChild(cpo);}}());</script>
<div class="footer" role="contentinfo"><div class="footer-inner"><div class="ray-id">Ray ID:
<code>8f1b2c3d4e5f6789</code></div><div class="text-center" id="footer-text">Performance &amp;
security by <a rel="noopener noreferrer" href="https://www.cloudflare.com">Cloudflare</a>
</div></div></div></body></html>""".encode()


def error_page_200() -> bytes:
    """A framework's not-found page, served with status 200 (soft 404) inside the site chrome."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>404: This page could not be found</title></head><body>
{CHROME_HEAD}
<main><div style="display:flex"><h1 class="next-error-h1">404</h1>
<div><h2>This page could not be found.</h2>
<p>Sorry, the page you are looking for doesn't exist or has been moved.
<a href="/">Go back home</a></p></div></div></main>
{CHROME_FOOT}</body></html>""".encode()


def maintenance_page() -> bytes:
    return b"""<!doctype html><html><head><meta charset="utf-8">
<title>Down for maintenance</title></head><body><article>
<h1>We&rsquo;ll be back soon!</h1>
<div><p>Sorry for the inconvenience. We&rsquo;re performing some scheduled maintenance at the
moment. We&rsquo;ll be back online shortly.</p><p>&mdash; The Nimbus team</p></div>
</article></body></html>"""


def spa_shell(script: str = "/static/app.js") -> bytes:
    """A single-page app: the policy text is inserted by script; without it, a notice."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Nimbus</title><script defer src="{script}"></script></head><body>
{CHROME_HEAD}
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
{CHROME_FOOT}</body></html>""".encode()


def spa_script(clauses: list[str] = POLICY_CLAUSES, *, data_url: str = "/api/policy") -> bytes:
    """The app: fetches the clauses as JSON after a short delay and renders them into #root."""
    return f"""
setTimeout(function () {{
  fetch("{data_url}").then(function (r) {{ return r.json(); }}).then(function (data) {{
    var main = document.createElement("main");
    var h1 = document.createElement("h1");
    h1.textContent = data.title;
    main.appendChild(h1);
    data.clauses.forEach(function (c) {{
      var p = document.createElement("p");
      p.textContent = c;
      main.appendChild(p);
    }});
    document.getElementById("root").appendChild(main);
  }});
}}, 200);
""".encode()


def stub_page() -> bytes:
    """What a flaky origin serves for one fetch: the page frame with only its opening lines."""
    return policy_page(POLICY_CLAUSES[:2])
