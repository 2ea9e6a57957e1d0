"""The HTTP face: the Flask app (JSON API and pages), live index reload, and serving."""

from qa_service.http.app import CONTENT_SECURITY_POLICY, check_rate_limit, create_app

__all__ = ["CONTENT_SECURITY_POLICY", "check_rate_limit", "create_app"]
