"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS).

The served document keeps the API's real limits (`target_count` up to 1,000,000 rows). A
debug build generates a million rows in minutes, which tells the fuzzer nothing new, so the
generated cases are bounded here instead of in the document: a schema-valid
`target_count` above MAX_FUZZ_ROWS is lowered to MAX_FUZZ_ROWS before the request is sent
(negative cases, such as strings, zero, or values above the real maximum, go through as
generated, since they are rejected before any work).
"""

import schemathesis

MAX_FUZZ_ROWS = 2000
HEAVY = {("POST", "/v1/ai/synthetic-data")}
REAL_MAX_ROWS = 1_000_000


def _printable(v):
    return not isinstance(v, str) or all(0x20 <= ord(c) <= 0x7E for c in v)


@schemathesis.hook
def map_case(context, case):
    if case.headers:
        for k in [k for k, v in case.headers.items() if not _printable(v)]:
            del case.headers[k]
    # Bodies that are not UTF-8 get the same bare 500 from the emulator (before any function
    # runs); send them with the bad bytes replaced.
    if isinstance(case.body, (bytes, bytearray)):
        try:
            case.body.decode("utf-8")
        except UnicodeDecodeError:
            case.body = case.body.decode("utf-8", "replace").encode("utf-8")
    op = context.operation
    if op is None or (op.method.upper(), op.path) not in HEAVY:
        return case
    body = case.body
    if isinstance(body, dict):
        n = body.get("target_count")
        if (
            isinstance(n, (int, float))
            and not isinstance(n, bool)
            and MAX_FUZZ_ROWS < n <= REAL_MAX_ROWS
        ):
            body["target_count"] = MAX_FUZZ_ROWS
    return case


@schemathesis.hook
def map_headers(context, headers):
    """Drop header values with bytes outside printable ASCII.

    `cargo lambda watch` answers any request carrying such a header value with a bare 500 of
    its own (`{"type": "https://httpstatuses.com/500", ...}`, text/plain) before the function
    runs: a limitation of the emulator, reproduced with `curl -H $'X-Any: \\xe9'` on any
    path, not of the service (API Gateway hands such values to the function, which answers
    400 for a bad Idempotency-Key). Printable-ASCII negatives (too long, spaces) still go out.
    """
    if not headers:
        return headers
    return {
        k: v
        for k, v in headers.items()
        if not isinstance(v, str) or all(0x20 <= ord(c) <= 0x7E for c in v)
    }
