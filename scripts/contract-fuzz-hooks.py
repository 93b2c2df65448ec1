# Schemathesis hooks for scripts/contract-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).
#
# The fuzzer authenticates every request with the bootstrap admin key. Revoking or rotating that
# key (a generated or a link-derived id can name it: GET /v1/whoami and GET /v1/keys both show it)
# would turn every later request into a 401 and every later check into noise (so would a PATCH that
# narrows or shortens it). So a DELETE, a PATCH or a
# rotate that names the admin's own key is sent to a decoy admin key instead, which the script
# creates for this purpose: the request still runs, on a key of the same owner and kind.
import os

import schemathesis

ADMIN_KEY_ID = os.environ["CONTRACT_FUZZ_ADMIN_KEY_ID"]
DECOY_KEY_ID = os.environ["CONTRACT_FUZZ_DECOY_KEY_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() not in ("DELETE", "POST", "PATCH"):
        return
    params = case.path_parameters
    if params and params.get("id") == ADMIN_KEY_ID:
        params["id"] = DECOY_KEY_ID
