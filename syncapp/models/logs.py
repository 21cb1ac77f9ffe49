"""Logger Options and the small table the log shipper drains."""

import logging

from django.db import models


class LogLevel(models.TextChoices):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class LoggerOptions(models.Model):
    logger = models.CharField(
        "logger or namespace",
        max_length=200,
        unique=True,
        help_text="A logger name or namespace, e.g. syncapp.engine.steps (covers its children).",
    )
    level = models.CharField(
        max_length=10,
        choices=LogLevel.choices,
        default=LogLevel.WARNING,
        help_text="Records below this level are not logged.",
    )
    ship_to_backend = models.BooleanField(
        "also send to SalesWings",
        default=True,
        help_text="Send this namespace's warnings and errors to the SalesWings backend's log sink.",
    )

    class Meta:
        verbose_name = "Logger Option"
        verbose_name_plural = "Logger Options"
        ordering = ["logger"]

    def __str__(self):
        return f"{self.logger}: {self.level}"

    def save(self, *args, **kwargs):
        from syncapp import logshipping

        super().save(*args, **kwargs)
        self.apply()
        logshipping.forget_rules()

    def delete(self, *args, **kwargs):
        from syncapp import logshipping

        result = super().delete(*args, **kwargs)
        logshipping.forget_rules()
        return result

    def apply(self):
        logging.getLogger(self.logger).setLevel(self.level)

    @classmethod
    def apply_all(cls):
        """Set every configured logger's level (each worker, before each step)."""
        for options in cls.objects.all():
            options.apply()

    @classmethod
    def rule_for(cls, logger_name, rules):
        """The most specific rule covering the logger (rules: {namespace: (level, ship)})."""
        name = logger_name
        while True:
            if name in rules:
                return rules[name]
            if "." not in name:
                return rules.get("", None)
            name = name.rsplit(".", 1)[0]


class PendingLogEntry(models.Model):
    """A log record waiting to be shipped to SalesWings by SWLogShipper."""

    time = models.DateTimeField()
    level = models.CharField(max_length=10)
    logger = models.CharField(max_length=200)
    message = models.TextField()

    class Meta:
        verbose_name = "pending log entry"
        verbose_name_plural = "pending log entries"
        ordering = ["id"]

    def __str__(self):
        return f"{self.level} {self.logger}: {self.message[:60]}"
