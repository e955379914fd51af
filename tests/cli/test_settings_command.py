"""`lms settings` shows every setting's value, secrets masked."""

from __future__ import annotations

from tests.cli.lms_process import environment, run_lms

SECRETS = {
    "LMS_PG_ADMIN_PASSWORD": "admin-pw-7f3a",
    "LMS_PG_SERVICE_PASSWORD": "service-pw-91c2",
    "LMS_DOWNLOAD_SECRET": "download-secret-55e1",
    "LMS_WEBHOOK_SECRET": "webhook-secret-0b9d",
    "LMS_SMTP_PASSWORD": "smtp-pw-c4d8",
    "LMS_MFA_ENCRYPTION_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=",
}


def test_secrets_and_url_passwords_are_masked() -> None:
    done = run_lms(
        "settings",
        env=environment(
            **SECRETS,
            LMS_REDIS_URL="redis://:redis-pw-2e6f@cache.internal:6379/0",
            LMS_AMQP_URL="amqp://lms:amqp-pw-8a1b@broker.internal:5672/",
            LMS_SMTP_HOST="mail.internal",
        ),
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()}
    for variable, secret in SECRETS.items():
        assert secret not in done.stdout
        assert rows[variable].split()[1] == "****"
    assert "redis://:****@cache.internal:6379/0" in rows["LMS_REDIS_URL"]
    assert "amqp://lms:****@broker.internal:5672/" in rows["LMS_AMQP_URL"]
    assert "redis-pw-2e6f" not in done.stdout
    assert "amqp-pw-8a1b" not in done.stdout
    assert "mail.internal" in rows["LMS_SMTP_HOST"]  # what is not secret shows as it is
