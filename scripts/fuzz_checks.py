"""Schemathesis checks of our own, loaded by scripts/fuzz (SCHEMATHESIS_HOOKS=fuzz_checks)."""

import schemathesis

PROBLEM = "application/problem+json"


@schemathesis.check
def errors_are_problems(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every 4xx/5xx is an RFC 9457 problem with a stable code, unless the operation documents
    another media type for that status (the scan page's HTML 404)."""
    if response.status_code < 400:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    documented = case.operation.definition.raw.get("responses", {}).get(
        str(response.status_code), {}
    )
    if media_type != PROBLEM and media_type in documented.get("content", {}):
        return None
    if media_type != PROBLEM:
        raise AssertionError(f"{response.status_code} answered as {media_type!r}, not {PROBLEM}")
    body = response.json()
    status_and_code = isinstance(body, dict) and body.get("code")
    if not status_and_code or body.get("status") != response.status_code:
        raise AssertionError(f"{response.status_code} problem without code or status: {body!r}")
    return None
