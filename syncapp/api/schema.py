"""drf-spectacular post-processing for the Sync/v1 schema."""


def forbid_undocumented_keys(result, generator, request, public):
    """Mark every object component closed (`additionalProperties: false`).

    The status JSON is built by `syncapp.api.status`, not by the serializers that document
    it; closing the objects makes tests/api/test_schema.py fail when a key is added to one
    and not the other, and tells clients the documented keys are all there is.
    """
    for schema in result.get("components", {}).get("schemas", {}).values():
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return result
