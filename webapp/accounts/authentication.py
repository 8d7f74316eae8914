from rest_framework import authentication, exceptions

from webapp.accounts.tokens import token_owner


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <token>` with a token from the account page. DRF's header
    parsing and error answers, our hashed tokens."""

    def authenticate_credentials(self, key):
        found = token_owner(key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return found
