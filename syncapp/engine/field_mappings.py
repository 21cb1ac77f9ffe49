"""The org check of a Field Mapping: its target field must exist, hold a number and be
writable. A network call, so the admin form runs it (never the model's validation)."""

from django.core.exceptions import ValidationError

from syncapp.engine import clients

# The describe types a score can be written into (Salesforce's Number, Percent and Currency
# fields; `int` for a Number field of no decimal places).
SCORE_FIELD_TYPES = ("double", "int", "percent", "currency")


def check_target(obj, field):
    """Raise ValidationError (on `field`) unless the org's `obj` has a `field` a score can be
    written into."""
    try:
        fields = clients.salesforce().fields(obj)
    except Exception as exc:  # the org is unreachable or refused: say so on the field
        raise ValidationError(
            {
                "field": f"Could not check the field against the org ({type(exc).__name__}: "
                f"{exc}). Try again when Salesforce is reachable."
            }
        ) from exc
    described = fields.get(field)
    if described is None:
        raise ValidationError({"field": f"The org's {obj} has no field named {field}."})
    kind = described.get("type")
    if kind not in SCORE_FIELD_TYPES:
        # A score written into a text field would overwrite it (a Lead's LastName, say).
        raise ValidationError(
            {
                "field": f"{obj}.{field} is a {kind or 'untyped'} field: a score needs a number "
                "field (double, int, percent or currency)."
            }
        )
    if described.get("updateable") is False:
        raise ValidationError(
            {"field": f"{obj}.{field} is read-only in the org: the sync cannot write it."}
        )
