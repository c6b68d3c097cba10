from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; a token older than API_TOKEN_TTL_DAYS is refused."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - timezone.timedelta(days=settings.API_TOKEN_TTL_DAYS):
            raise AuthenticationFailed("令牌已过期，请重新获取。", code="token_expired")
        return user, token
