"""Makes the client's address known to services that have no request (issue 16 §3).

The e-signature password check (governance.services.login_guard.signature_password_check) runs
inside the workflow service; it counts a wrong password against the signer and against the
client's address, which this middleware binds for the duration of the request.
"""

from __future__ import annotations

from governance.services import login_guard


class ClientAddressMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with login_guard.address_bound(login_guard.client_address(request)):
            return self.get_response(request)
