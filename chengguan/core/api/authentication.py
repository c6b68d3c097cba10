"""API tokens: one per user, valid for API_TOKEN_TTL_DAYS, sent as `Authorization: Token <key>`."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token: Token) -> bool:
    return token.created < timezone.now() - timezone.timedelta(days=settings.API_TOKEN_TTL_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; a token older than API_TOKEN_TTL_DAYS is refused."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed("令牌已过期，请重新获取。", code="token_expired")
        return user, token


@transaction.atomic
def issue_token(user) -> Token:
    """The user's current token; an expired one is replaced by a fresh key."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def revoke_token(user) -> None:
    Token.objects.filter(user=user).delete()
