"""rules/mail.py: what an e-mail says in each language, its layout, and when a failed one is retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notify.rules.mail import ATTEMPTS, compose, language_of, next_attempt


def test_a_letter_in_chinese_and_in_english() -> None:
    zh = compose(
        language="zh", name="王爱丽", kind="quote", title="收到服务报价", body="案件 33333333 的报价为 8000.00 CNY。"
    )
    assert zh.subject.endswith("收到服务报价")
    assert "王爱丽" in zh.text and "案件 33333333" in zh.text and "服务报价" in zh.text
    assert '<html lang="zh-CN">' in zh.html
    en = compose(language="en", name="Alice Wang", kind="quote", title="Quote received", body="A fee of 8000.00 CNY.")
    assert en.subject == "[ParkHub] Quote received"
    assert "Dear Alice Wang," in en.text and "“Quotes”" in en.text
    assert '<html lang="en">' in en.html


def test_what_the_events_carry_is_escaped_in_html_and_never_folds_the_subject() -> None:
    letter = compose(
        language="en", name="<b>Mallory</b>", kind="booking", title="Board\r\nBcc: x@evil.cn", body="<script>x</script>"
    )
    assert "<script>" not in letter.html and "&lt;script&gt;" in letter.html
    assert "<b>Mallory</b>" not in letter.html
    assert "\n" not in letter.subject and "\r" not in letter.subject
    assert "<script>x</script>" in letter.text  # plain text is shown as it is


def test_the_language_is_the_persons_choice_else_chinese() -> None:
    assert (language_of("en"), language_of("zh"), language_of(None), language_of("fr")) == ("en", "zh", "zh", "zh")


def test_retries_after_1_5_30_120_minutes_then_none() -> None:
    at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    waits = [next_attempt(n, at) for n in range(1, ATTEMPTS + 1)]
    assert waits[:-1] == [at + timedelta(minutes=m) for m in (1, 5, 30, 120)]
    assert waits[-1] is None and ATTEMPTS == 5
